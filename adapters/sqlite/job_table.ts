/**
 * The jobs and every change of their state, in SQL: the port's semantics
 * (as MemoryStorage's `JobStore` has them) on checked input, run inside the
 * caller's transaction. Each method does what the `Storage` method of that
 * name does; it records the events of its changes and the queues it made
 * work on in the call's {@linkcode Step}.
 *
 * Orders come from the store's sequence (`seq`), never from time: a job's
 * `seq` is renewed each time it becomes waiting, delayed, active or
 * finished, so "the order they became waiting" is `seq` order.
 *
 * @module
 */

import {
  type Counts,
  enqueuedRecord,
  type EnqueueResult,
  MAX_ERROR_HISTORY,
  type NewJob,
  type ReserveRequest,
  type ReserveResult,
  type Retention,
  type RetentionPolicy,
  type Settlement,
} from "../../core/storage.ts";
import type { JobError, JobRecord, JobState, JsonValue } from "../../core/task.ts";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS, JOB_STATES } from "../../core/task.ts";
import type { Database, Row } from "./database.ts";
import { copyError } from "../../core/errors.ts";
import { decodeRow, jsonText, rawText } from "./job_row.ts";
import type { Flow } from "./flow.ts";
import type { Step } from "./step.ts";

/** Dedupe keys a dedupe enqueue frees at most (a `prune` frees every due one). */
const DEDUPE_SWEEP = 16;

/** The columns of a job's lease, cleared as it leaves active. */
const NO_LEASE = "lease_owner = NULL, lease_token = NULL, lease_until = NULL, lease_seq = NULL";

/** A queue's count of jobs in each state, each read over that state's index. */
const COUNTS_SQL = "SELECT " +
  JOB_STATES.map((state) =>
    `(SELECT count(*) FROM jobs WHERE queue = ?1 AND state = '${state}') AS ${state}`
  ).join(", ");

/** The order of each state's listing, as MemoryStorage lists them. */
const LIST_ORDER: Readonly<Record<JobState, string>> = Object.freeze({
  // The jobs without a group first, then each group's (by name): the order of jobs_waiting.
  waiting: "grp, priority DESC, seq",
  delayed: "run_at, seq",
  // The few active jobs are sorted, not indexed a second time.
  active: "started_at, seq",
  completed: "seq DESC",
  failed: "seq DESC",
});

/** Finished jobs read per step of a prune. */
const PRUNE_BATCH = 500;

/**
 * The `jobs` table's operations (see the module doc).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { Flow } from "./flow.ts";
 * import { JobTable } from "./job_table.ts";
 * import { openSchema } from "./schema.ts";
 * import { Step } from "./step.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * const jobs = new JobTable(db, new Flow(db));
 * db.exec("BEGIN IMMEDIATE");
 * const step = new Step(db, 0);
 * jobs.enqueue(step, [{ id: "a", name: "t", queue: "q", payload: 1, priority: 0,
 *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 0 }], 0);
 * step.finish();
 * db.exec("COMMIT");
 * console.log(jobs.getJob("a")?.state); // "waiting"
 * db.close();
 * ```
 */
export class JobTable {
  readonly #db: Database;
  readonly #flow: Flow;

  /** The jobs of `db`; `flow` enforces the limits and groups at reserve. */
  constructor(db: Database, flow: Flow) {
    this.#db = db;
    this.#flow = flow;
  }

  /** Stores new jobs, idempotent by id (the first of equal ids in one batch wins). */
  enqueue(step: Step, jobs: readonly NewJob[], now: number): EnqueueResult[] {
    const db = this.#db;
    const results: EnqueueResult[] = new Array(jobs.length);
    const exists = db.prepare("SELECT * FROM jobs WHERE id = ?");
    const insert = db.prepare(
      "INSERT INTO jobs (id, queue, name, payload, state, priority, seq, run_at, max_attempts, " +
        "max_stalls, timeout, enqueued_at, dedupe_key, hold_until, grp) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    let lastQueue: string | undefined;
    for (let i = 0; i < jobs.length; i++) {
      let job = jobs[i];
      const existing = exists.get(job.id);
      if (existing !== undefined) {
        results[i] = { job: decodeRow(existing).record, created: false };
        continue;
      }
      if (job.queue !== lastQueue) {
        this.ensureQueue(job.queue);
        lastQueue = job.queue;
      }
      if (job.dedupe !== undefined) {
        const decided = this.#dedupe(step, job, now);
        if (decided !== undefined) {
          results[i] = decided;
          continue;
        }
        // A debounce runs `delay` after the enqueue, whatever the job's runAt says.
        if (job.dedupe.mode === "debounce") job = { ...job, runAt: now + job.dedupe.delay! };
      }
      const payload = jsonText(job.payload);
      const state: JobState = job.runAt <= now ? "waiting" : "delayed";
      const dedupe = job.dedupe;
      const holdUntil = dedupe?.ttl == null ? null : now + dedupe.ttl;
      insert.run(
        job.id,
        job.queue,
        job.name,
        payload,
        state,
        job.priority,
        step.seq(),
        job.runAt,
        job.maxAttempts,
        job.maxStalls,
        job.timeout,
        now,
        dedupe?.key ?? null,
        holdUntil,
        job.group ?? null,
      );
      if (state === "waiting") this.#flow.pushWaiting(step, job.queue, job.group);
      if (dedupe !== undefined) {
        db.prepare(
          "INSERT INTO dedupe_keys (queue, key, job_id, hold_until) VALUES (?, ?, ?, NULL) " +
            "ON CONFLICT (queue, key) DO UPDATE SET job_id = excluded.job_id, hold_until = NULL",
        ).run(job.queue, dedupe.key, job.id);
      }
      step.event(job.queue, {
        type: "enqueued",
        at: now,
        queue: job.queue,
        jobId: job.id,
        name: job.name,
        runAt: job.runAt,
      });
      // Delayed jobs wake waiters too (see the port's decisions).
      step.work.add(job.queue);
      const stored = payload === null ? undefined : JSON.parse(payload);
      results[i] = { job: enqueuedRecord(job, stored, now), created: true };
    }
    return results;
  }

  /**
   * The outcome of enqueuing `job` (which has `dedupe` and a new id) when
   * its key is held: a duplicate, or a debounce of the key's job.
   * Undefined: create it (the caller then gives it the key).
   */
  #dedupe(step: Step, job: NewJob, now: number): EnqueueResult | undefined {
    const db = this.#db;
    this.sweepKeys(job.queue, now, DEDUPE_SWEEP);
    const { key, mode, delay } = job.dedupe!;
    const holder = db.prepare(
      "SELECT jobs.* FROM dedupe_keys JOIN jobs ON jobs.id = dedupe_keys.job_id " +
        "WHERE dedupe_keys.queue = ? AND dedupe_keys.key = ?",
    ).get(job.queue, key);
    if (holder === undefined) return undefined;
    const state = String(holder.state);
    const pending = state === "waiting" || state === "delayed";
    if (mode === "debounce") {
      if (!pending) return undefined;
      const runAt = now + delay!;
      db.prepare(
        "UPDATE jobs SET payload = ?, run_at = ?, state = ?, seq = ? WHERE id = ?",
      ).run(
        jsonText(job.payload),
        runAt,
        runAt <= now ? "waiting" : "delayed",
        step.seq(),
        holder.id,
      );
      if (runAt <= now) this.#flow.pushWaiting(step, job.queue, holder.grp as string | null);
      step.event(job.queue, {
        type: "debounced",
        at: now,
        queue: job.queue,
        jobId: String(holder.id),
        runAt,
      });
      step.work.add(job.queue);
      return { job: this.getJob(String(holder.id))!, created: false, deduplicated: "debounced" };
    }
    const holds = holder.hold_until !== null && Number(holder.hold_until) > now;
    if (pending || (mode === "unique" && state === "active") || holds) {
      return { job: decodeRow(holder).record, created: false, deduplicated: "duplicate" };
    }
    return undefined;
  }

  /** Drops up to `budget` keys of `queue` whose job finished and whose ttl is over. */
  sweepKeys(queue: string, now: number, budget: number): void {
    if (!Number.isFinite(budget)) {
      this.#db.prepare(
        "DELETE FROM dedupe_keys WHERE queue = ? AND hold_until IS NOT NULL AND hold_until <= ?",
      ).run(queue, now);
      return;
    }
    this.#db.prepare(
      "DELETE FROM dedupe_keys WHERE (queue, key) IN (SELECT queue, key FROM dedupe_keys " +
        "WHERE queue = ? AND hold_until IS NOT NULL AND hold_until <= ? LIMIT ?)",
    ).run(queue, now, budget);
  }

  /** Makes `queue` a queue of the store (`queues()` lists it). */
  ensureQueue(queue: string): void {
    this.#db.prepare("INSERT INTO queues (name) VALUES (?) ON CONFLICT (name) DO NOTHING").run(
      queue,
    );
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` waiting jobs, queue by queue in the order given.
   */
  reserve(step: Step, request: ReserveRequest): ReserveResult {
    const { limit, owner, leaseMs, now, taskDefaults } = request;
    const db = this.#db;
    const queues = [...new Set(request.queues)]; // a repeated name adds nothing
    const jobs: JobRecord[] = [];
    let quarantined = false;
    // The queues reserved from, and whether each reserves through the turns.
    const known: { queue: string; controlled: boolean }[] = [];
    for (const queue of queues) {
      const data = db.prepare("SELECT paused FROM queues WHERE name = ?").get(queue);
      if (data === undefined) continue;
      this.#reclaim(step, queue, now);
      this.#promote(step, queue, now);
      if (Number(data.paused) === 1) continue;
      const controlled = this.#flow.controls(queue);
      known.push({ queue, controlled });
      if (jobs.length >= limit) continue;
      const take = (row: Row): void => {
        const decoded = decodeRow(row);
        if (decoded.corrupt) {
          this.#bury(step, row, now);
          quarantined = true;
          return;
        }
        jobs.push(this.#activate(step, decoded.record, owner, leaseMs, now, taskDefaults));
      };
      if (controlled) {
        this.#flow.take(step, queue, limit - jobs.length, now, take);
        continue;
      }
      const rows = db.prepare(
        // A queue that is not controlled has no lanes, so no grouped waiting job.
        "SELECT * FROM jobs WHERE queue = ? AND grp IS NULL AND state = 'waiting' " +
          "ORDER BY priority DESC, seq LIMIT ?",
      ).all(queue, limit - jobs.length);
      for (const row of rows) take(row);
    }
    let nextAt: number | null = null;
    const earlier = (at: number | null) => {
      if (at !== null && (nextAt === null || at < nextAt)) nextAt = at;
    };
    for (const { queue, controlled } of known) {
      const row = db.prepare(
        "SELECT (SELECT min(run_at) FROM jobs WHERE queue = ?1 AND state = 'delayed') " +
          "AS delayed, " +
          "(SELECT min(lease_until) FROM jobs WHERE queue = ?1 AND state = 'active') AS lease",
      ).get(queue)!;
      earlier(row.delayed === null ? null : Number(row.delayed));
      earlier(row.lease === null ? null : Number(row.lease));
      if (controlled) earlier(this.#flow.nextAt(queue, now));
    }
    return quarantined && jobs.length < limit ? { jobs, nextAt, more: true } : { jobs, nextAt };
  }

  /** Applies finished attempts whose lease still holds, then prunes the touched queues. */
  settle(
    step: Step,
    settlements: readonly Settlement[],
    now: number,
    retention?: Retention,
  ): boolean[] {
    const applied: boolean[] = new Array(settlements.length);
    // A retention that keeps no completed job: delete them at once.
    const dropCompleted = retention?.completed.count === 0;
    const touched = new Set<string>();
    // Queues that ungrouped jobs left active from: the flow hears of each once, after the loop.
    const ungrouped = new Set<string>();
    for (let i = 0; i < settlements.length; i++) {
      const settlement = settlements[i];
      const row = settlement.kind === "complete"
        ? this.#complete(step, settlement, now, dropCompleted)
        : this.#held(settlement.id, settlement.token);
      applied[i] = row !== undefined;
      if (row === undefined) continue;
      if (settlement.kind !== "complete") this.#apply(step, row, settlement, now);
      const queue = String(row.queue);
      touched.add(queue);
      if (row.grp === null) ungrouped.add(queue);
    }
    for (const queue of ungrouped) this.#flow.leftActive(step, queue, null);
    if (retention !== undefined) {
      for (const queue of touched) this.#prune(queue, retention, now);
    }
    return applied;
  }

  /** Renews leases still held: each expires `leaseMs` after `now`. */
  extendLeases(
    step: Step,
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): boolean[] {
    return leases.map(({ id, token }) => {
      const row = this.#held(id, token);
      if (row === undefined) return false;
      const expiresAt = now + leaseMs;
      // An unchanged expiry keeps its place among equal expiries.
      if (Number(row.lease_until) !== expiresAt) {
        this.#db.prepare("UPDATE jobs SET lease_until = ?, lease_seq = ? WHERE id = ?")
          .run(expiresAt, step.seq(), id);
      }
      return true;
    });
  }

  /** Records progress of an active job whose lease `token` still holds. */
  setProgress(step: Step, id: string, token: string, progress: JsonValue, now: number): boolean {
    const row = this.#held(id, token);
    if (row === undefined) return false;
    const text = jsonText(progress);
    this.#db.prepare("UPDATE jobs SET progress = ? WHERE id = ?").run(text, id);
    const event: Record<string, unknown> = {
      type: "progress",
      at: now,
      queue: String(row.queue),
      jobId: id,
    };
    if (text !== null) event.progress = JSON.parse(text);
    step.event(String(row.queue), event as { type: string; at: number });
    return true;
  }

  /** The job, or null. */
  getJob(id: string): JobRecord | null {
    const row = this.#db.prepare("SELECT * FROM jobs WHERE id = ?").get(id);
    return row === undefined ? null : decodeRow(row).record;
  }

  /** Jobs in each state in `queue` (all zero for a queue never used). */
  counts(queue: string): Counts {
    // One count per state, each over its partial index.
    const row = this.#db.prepare(COUNTS_SQL).get(queue)!;
    return {
      waiting: Number(row.waiting),
      delayed: Number(row.delayed),
      active: Number(row.active),
      completed: Number(row.completed),
      failed: Number(row.failed),
    };
  }

  /** Jobs of `queue` in `state`, in the port's order, from `offset`, at most `limit`. */
  list(queue: string, state: JobState, offset: number, limit: number): JobRecord[] {
    if (limit === 0) return [];
    if (!Object.hasOwn(LIST_ORDER, state)) throw new TypeError(`Unknown job state: ${state}`);
    const order = LIST_ORDER[state];
    // The state is written into the text (checked above): a partial index serves only a literal.
    return this.#db.prepare(
      `SELECT * FROM jobs WHERE queue = ? AND state = '${state}' ORDER BY ${order} ` +
        "LIMIT ? OFFSET ?",
    ).all(queue, limit, offset).map((row) => decodeRow(row).record);
  }

  /** Moves a failed job back to waiting with `attempt` and `stalls` reset. */
  retryFailed(step: Step, id: string, now: number): boolean {
    const row = this.#db.prepare("SELECT queue, grp FROM jobs WHERE id = ? AND state = 'failed'")
      .get(id);
    if (row === undefined) return false;
    const queue = String(row.queue);
    this.#db.prepare(
      "UPDATE jobs SET state = 'waiting', attempt = 0, stalls = 0, finished_at = NULL, " +
        "run_at = ?, seq = ? WHERE id = ?",
    ).run(now, step.seq(), id);
    this.#flow.pushWaiting(step, queue, row.grp as string | null);
    step.event(queue, { type: "waiting", at: now, queue, jobId: id, reason: "retried" });
    step.work.add(queue);
    return true;
  }

  /** Makes a delayed job waiting now (`runAt = now`), keeping its attempts, stalls and errors. */
  promote(step: Step, id: string, now: number): boolean {
    const row = this.#db.prepare("SELECT queue, grp FROM jobs WHERE id = ? AND state = 'delayed'")
      .get(id);
    if (row === undefined) return false;
    const queue = String(row.queue);
    this.#db.prepare("UPDATE jobs SET state = 'waiting', run_at = ?, seq = ? WHERE id = ?")
      .run(now, step.seq(), id);
    this.#flow.pushWaiting(step, queue, row.grp as string | null);
    step.event(queue, { type: "waiting", at: now, queue, jobId: id, reason: "promoted" });
    step.work.add(queue);
    return true;
  }

  /** Deletes a job that is not active (`onlyFailed`: only a failed one). */
  remove(step: Step, id: string, onlyFailed: boolean, now: number): boolean {
    const row = this.#db.prepare("SELECT queue, state, dedupe_key FROM jobs WHERE id = ?").get(id);
    if (row === undefined || row.state === "active") return false;
    if (onlyFailed && row.state !== "failed") return false;
    this.#delete(id, row.dedupe_key);
    const queue = String(row.queue);
    step.event(queue, { type: "removed", at: now, queue, jobId: id });
    return true;
  }

  /** Stops reservations from `queue` (remembered for a queue with no job yet). */
  pause(step: Step, queue: string, now: number): void {
    this.ensureQueue(queue);
    const changed = this.#db.prepare("UPDATE queues SET paused = 1 WHERE name = ? AND paused = 0")
      .run(queue).changes;
    if (changed > 0) step.event(queue, { type: "paused", at: now, queue });
  }

  /** Lets reservations from `queue` happen again (remembered as a queue of the store too). */
  resume(step: Step, queue: string, now: number): void {
    this.ensureQueue(queue);
    const changed = this.#db.prepare("UPDATE queues SET paused = 0 WHERE name = ? AND paused = 1")
      .run(queue).changes;
    if (changed > 0) step.event(queue, { type: "resumed", at: now, queue });
    step.work.add(queue);
  }

  /** Whether `queue` is paused. */
  isPaused(queue: string): boolean {
    const row = this.#db.prepare("SELECT paused FROM queues WHERE name = ?").get(queue);
    return row !== undefined && Number(row.paused) === 1;
  }

  /** Removes finished jobs of `queue` beyond `retention`; returns how many. */
  prune(queue: string, retention: Retention, now: number): number {
    if (this.#db.prepare("SELECT 1 FROM queues WHERE name = ?").get(queue) === undefined) return 0;
    this.#flow.sweep(queue, now);
    return this.#prune(queue, retention, now);
  }

  /** Every queue the store knows, by name, with its counts and paused flag. */
  summaries(): { name: string; counts: Counts; paused: boolean }[] {
    return this.#db.prepare("SELECT name, paused FROM queues ORDER BY name").all().map((row) => ({
      name: String(row.name),
      counts: this.counts(String(row.name)),
      paused: Number(row.paused) === 1,
    }));
  }

  /** The active row `id` if `token` is its lease's; undefined for a lost lease. */
  #held(id: string, token: string): Row | undefined {
    return this.#db.prepare(
      "SELECT * FROM jobs WHERE id = ? AND state = 'active' AND lease_token = ?",
    )
      .get(id, token);
  }

  /**
   * Deletes job `id`, freeing its dedupe key (a deleted job holds none, ttl
   * or not); `dedupeKey` is the row's (null: it has none to free).
   */
  #delete(id: string, dedupeKey: unknown): void {
    this.#db.prepare("DELETE FROM jobs WHERE id = ?").run(id);
    if (dedupeKey !== null) this.#freeKeys(id);
  }

  #freeKeys(id: string): void {
    this.#db.prepare("DELETE FROM dedupe_keys WHERE job_id = ?").run(id);
  }

  /** The reserved record of waiting `record`: active, with a fresh lease. */
  #activate(
    step: Step,
    record: JobRecord,
    owner: string,
    leaseMs: number,
    now: number,
    taskDefaults: ReserveRequest["taskDefaults"],
  ): JobRecord {
    if (
      taskDefaults !== undefined &&
      (record.maxAttempts === null || record.maxStalls === null || record.timeout === null)
    ) {
      const settings = taskDefaults.get(record.name);
      if (settings !== undefined) {
        record.maxAttempts ??= settings.maxAttempts;
        record.maxStalls ??= settings.maxStalls;
        record.timeout ??= settings.timeout;
      }
    }
    const seq = step.seq();
    // Random, so no reservation of any job in any process ever had it before.
    const token = crypto.randomUUID();
    const expiresAt = now + leaseMs;
    record.state = "active";
    record.attempt++;
    record.startedAt = now;
    record.lease = { owner, token, expiresAt };
    this.#db.prepare(
      "UPDATE jobs SET state = 'active', attempt = ?, started_at = ?, lease_owner = ?, " +
        "lease_token = ?, lease_until = ?, lease_seq = ?, seq = ?, max_attempts = ?, " +
        "max_stalls = ?, timeout = ? WHERE id = ?",
    ).run(
      record.attempt,
      now,
      owner,
      token,
      expiresAt,
      seq,
      seq,
      record.maxAttempts,
      record.maxStalls,
      record.timeout,
      record.id,
    );
    step.event(record.queue, {
      type: "active",
      at: now,
      queue: record.queue,
      jobId: record.id,
      attempt: record.attempt,
      workerId: owner,
    });
    return record;
  }

  /** Moves an unparsable waiting row to failed, its text kept in `raw`. */
  #bury(step: Step, row: Row, now: number): void {
    const id = String(row.id);
    const attempt = Number(row.attempt);
    const error: JobError = {
      message: `Cannot parse the stored job ${id}: its JSON text is not valid`,
      name: "CorruptRecordError",
      attempt: Number.isInteger(attempt) ? attempt : 0,
      at: now,
    };
    const errorText = JSON.stringify(error);
    // The unparsable columns are cleared (their text is in raw), so the record reads back.
    this.#db.prepare(
      "UPDATE jobs SET state = 'failed', finished_at = ?, seq = ?, raw = ?, payload = NULL, " +
        "progress = NULL, result = NULL, error = ?, errors = ? WHERE id = ?",
    ).run(now, step.seq(), rawText(row), errorText, `[${errorText}]`, id);
    this.#releaseKey(row, now);
  }

  #reclaim(step: Step, queue: string, now: number): void {
    const rows = this.#db.prepare(
      "SELECT * FROM jobs WHERE queue = ? AND state = 'active' AND lease_until <= ? " +
        "ORDER BY lease_until, lease_seq",
    ).all(queue, now);
    for (const row of rows) {
      const id = String(row.id);
      this.#flow.leftActive(step, queue, row.grp as string | null);
      const stalls = Number(row.stalls) + 1;
      const attempt = Number(row.attempt);
      // Still unset: no worker that knew the task reserved it; the built-in defaults.
      const maxStalls = row.max_stalls === null ? DEFAULT_MAX_STALLS : Number(row.max_stalls);
      const maxAttempts = row.max_attempts === null
        ? DEFAULT_MAX_ATTEMPTS
        : Number(row.max_attempts);
      if (stalls > maxStalls || attempt >= maxAttempts) {
        const why = stalls > maxStalls
          ? `more than maxStalls (${maxStalls}) times`
          : `on its last attempt (${attempt} of ${maxAttempts})`;
        const error = this.#recordError(row, {
          message: `Job ${id} stalled: its lease expired ${why}`,
          name: "StalledError",
          attempt,
          at: now,
        });
        this.#db.prepare(
          "UPDATE jobs SET state = 'failed', stalls = ?, finished_at = ?, seq = ?, " +
            "lease_owner = NULL, lease_token = NULL, lease_until = NULL, lease_seq = NULL, " +
            "error = ?, errors = ? WHERE id = ?",
        ).run(stalls, now, step.seq(), error.text, error.history, id);
        this.#releaseKey(row, now);
        step.event(queue, { type: "stalled", at: now, queue, jobId: id, failed: true });
        step.event(queue, { type: "failed", at: now, queue, jobId: id, error: error.error });
      } else {
        this.#db.prepare(
          "UPDATE jobs SET state = 'waiting', stalls = ?, seq = ?, lease_owner = NULL, " +
            "lease_token = NULL, lease_until = NULL, lease_seq = NULL WHERE id = ?",
        ).run(stalls, step.seq(), id);
        this.#flow.pushWaiting(step, queue, row.grp as string | null);
        step.event(queue, { type: "stalled", at: now, queue, jobId: id, failed: false });
      }
    }
  }

  #promote(step: Step, queue: string, now: number): void {
    const rows = this.#db.prepare(
      "SELECT id, grp FROM jobs WHERE queue = ? AND state = 'delayed' AND run_at <= ? " +
        "ORDER BY run_at, seq",
    ).all(queue, now);
    const update = this.#db.prepare("UPDATE jobs SET state = 'waiting', seq = ? WHERE id = ?");
    for (const row of rows) {
      update.run(step.seq(), row.id);
      this.#flow.pushWaiting(step, queue, row.grp as string | null);
    }
  }

  /** `error` as the last error and appended to the bounded history of `row`, as stored text. */
  #recordError(row: Row, error: JobError): { error: JobError; text: string; history: string } {
    const copy = copyError(error);
    let errors: JobError[] = [];
    try {
      const parsed = row.errors === null ? [] : JSON.parse(String(row.errors));
      if (Array.isArray(parsed)) errors = parsed;
    } catch {
      // An unparsable history starts again (reserve quarantines such rows before this).
    }
    errors.push(copy);
    if (errors.length > MAX_ERROR_HISTORY) errors.splice(0, errors.length - MAX_ERROR_HISTORY);
    return { error: copy, text: JSON.stringify(copy), history: JSON.stringify(errors) };
  }

  /** `row` (a job with a dedupe key) finished: its key is free once its ttl is over. */
  #releaseKey(row: Row, now: number): void {
    if (row.dedupe_key === null) return;
    const holdUntil = row.hold_until === null ? null : Number(row.hold_until);
    if (holdUntil !== null && holdUntil > now) {
      this.#db.prepare(
        "UPDATE dedupe_keys SET hold_until = ? WHERE queue = ? AND key = ? AND job_id = ?",
      ).run(holdUntil, row.queue, row.dedupe_key, row.id);
    } else {
      this.#db.prepare("DELETE FROM dedupe_keys WHERE queue = ? AND key = ? AND job_id = ?")
        .run(row.queue, row.dedupe_key, row.id);
    }
  }

  /**
   * Applies a completion whose lease still holds, in one statement (the
   * common case: a delete, or the update to completed); returns the job's
   * queue and group, or undefined for a lost lease.
   */
  #complete(
    step: Step,
    settlement: Settlement & { kind: "complete" },
    now: number,
    dropCompleted: boolean,
  ): Row | undefined {
    const db = this.#db;
    const { id, token } = settlement;
    const result = jsonText(settlement.result);
    const row = dropCompleted
      ? db.prepare(
        "DELETE FROM jobs WHERE id = ? AND state = 'active' AND lease_token = ? " +
          "RETURNING queue, grp, dedupe_key",
      ).get(id, token)
      : db.prepare(
        "UPDATE jobs SET state = 'completed', finished_at = ?, seq = ?, result = ?, " +
          `${NO_LEASE} WHERE id = ? AND state = 'active' AND lease_token = ? ` +
          "RETURNING id, queue, grp, dedupe_key, hold_until",
      ).get(now, step.seq(), result, id, token);
    if (row === undefined) return undefined;
    const queue = String(row.queue);
    // An ungrouped job's leaving is told once per queue by `settle`.
    if (row.grp !== null) this.#flow.leftActive(step, queue, String(row.grp));
    if (row.dedupe_key !== null) {
      if (dropCompleted) this.#freeKeys(id);
      else this.#releaseKey(row, now);
    }
    const event: Record<string, unknown> = { type: "completed", at: now, queue, jobId: id };
    if (result !== null) event.result = JSON.parse(result);
    step.event(queue, event as { type: string; at: number });
    return row;
  }

  /** Applies a failure, a retry or a release whose lease still holds (`row` is the job's). */
  #apply(step: Step, row: Row, settlement: Settlement, now: number): void {
    const db = this.#db;
    const id = String(row.id);
    const queue = String(row.queue);
    const group = row.grp === null ? undefined : String(row.grp);
    // An ungrouped job's leaving is told once per queue by `settle`.
    if (group !== undefined) this.#flow.leftActive(step, queue, group);
    switch (settlement.kind) {
      case "fail": {
        const error = this.#recordError(row, settlement.error);
        db.prepare(
          `UPDATE jobs SET state = 'failed', finished_at = ?, seq = ?, error = ?, errors = ?, ` +
            `${NO_LEASE} WHERE id = ?`,
        ).run(now, step.seq(), error.text, error.history, id);
        this.#releaseKey(row, now);
        step.event(queue, { type: "failed", at: now, queue, jobId: id, error: error.error });
        return;
      }
      case "retry": {
        const error = this.#recordError(row, settlement.error);
        const runAt = settlement.runAt;
        db.prepare(
          `UPDATE jobs SET state = ?, run_at = ?, seq = ?, error = ?, errors = ?, ${NO_LEASE} ` +
            "WHERE id = ?",
        ).run(
          runAt <= now ? "waiting" : "delayed",
          runAt,
          step.seq(),
          error.text,
          error.history,
          id,
        );
        if (runAt <= now) this.#flow.pushWaiting(step, queue, group);
        step.event(queue, {
          type: "retrying",
          at: now,
          queue,
          jobId: id,
          error: error.error,
          runAt,
        });
        break;
      }
      case "release": {
        if (settlement.holdUntil !== undefined) {
          this.#flow.hold(step, queue, group, settlement.holdUntil);
        }
        const runAt = settlement.runAt ?? Number(row.run_at);
        db.prepare(
          `UPDATE jobs SET state = ?, run_at = ?, seq = ?, attempt = max(attempt - 1, 0), ` +
            `${NO_LEASE} WHERE id = ?`,
        ).run(runAt <= now ? "waiting" : "delayed", runAt, step.seq(), id);
        if (runAt <= now) this.#flow.pushWaiting(step, queue, group);
        step.event(queue, { type: "waiting", at: now, queue, jobId: id, reason: "released" });
        break;
      }
    }
    step.work.add(queue);
  }

  #prune(queue: string, retention: Retention, now: number): number {
    this.sweepKeys(queue, now, Infinity);
    return this.#pruneFinished(queue, "completed", retention.completed, now) +
      this.#pruneFinished(queue, "failed", retention.failed, now);
  }

  /** Drops the oldest finished jobs (in finish order) beyond the count or the age. */
  #pruneFinished(
    queue: string,
    state: "completed" | "failed",
    policy: RetentionPolicy,
    now: number,
  ): number {
    const db = this.#db;
    // The state is written into the text (one of two): a partial index serves only a literal.
    const count = Number(
      db.prepare(`SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = '${state}'`)
        .get(queue)!.n,
    );
    if (count === 0) return 0;
    const oldestKept = now - policy.age;
    const oldest = db.prepare(
      `SELECT id, finished_at, dedupe_key FROM jobs WHERE queue = ? AND state = '${state}' ` +
        "ORDER BY seq LIMIT ?",
    );
    let removed = 0;
    // Beyond the count: the oldest go, whatever their age.
    if (count > policy.count) {
      for (const row of oldest.all(queue, count - policy.count)) {
        this.#delete(String(row.id), row.dedupe_key);
        removed++;
      }
    }
    // Then the oldest while too old, read a few at a time (usually none is).
    for (let batch = 4;; batch = Math.min(batch * 4, PRUNE_BATCH)) {
      const rows = oldest.all(queue, batch);
      for (const row of rows) {
        if (Number(row.finished_at) >= oldestKept) return removed;
        this.#delete(String(row.id), row.dedupe_key);
        removed++;
      }
      if (rows.length < batch) return removed;
    }
  }
}
