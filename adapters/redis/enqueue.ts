/**
 * Enqueueing: storing new jobs, idempotent by id, in one script call per slot.
 *
 * @module
 */

import { checkWellFormed, validateName } from "../../core/_validate.ts";
import { enqueuedRecord, type EnqueueResult, type NewJob } from "../../core/storage.ts";
import { getJob } from "./admin.ts";
import { packData, toRecord } from "./codec.ts";
import type { Reply } from "./connection.ts";
import type { QueueSet } from "./registry.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * Stores new jobs (see RedisStorage.enqueue): with `queueTags`, after one
 * id-index call that claims each id for its queue; a queue new to this
 * storage is added to `queues` first.
 *
 * @example
 * ```ts ignore
 * const results = await enqueue(slots, queueSet, jobs, Date.now());
 * ```
 */
export async function enqueue(
  slots: Slots,
  queues: QueueSet,
  given: readonly NewJob[],
  now: number,
): Promise<EnqueueResult[]> {
  if (given.length === 0) return [];
  let jobs = given;
  for (let i = 0; i < given.length; i++) {
    const dedupe = given[i].dedupe;
    // A debounce runs `delay` after the enqueue, whatever the job's runAt says.
    if (dedupe?.mode === "debounce" && given[i].runAt !== now + dedupe.delay!) {
      if (jobs === given) jobs = given.slice();
      (jobs as NewJob[])[i] = { ...given[i], runAt: now + dedupe.delay! };
    }
  }
  checkKeyParts(jobs, "Cannot enqueue jobs");
  const payloads = jobs.map((job) => JSON.stringify(job.payload) ?? "null");
  const registering = queues.add("enqueue jobs", jobs);
  if (registering !== undefined) await registering;
  const results: EnqueueResult[] = new Array(jobs.length);
  // Which jobs go to which slot: everything together, or per queue.
  const groups = new Map<string, number[]>();
  if (slots.queueTags) {
    const args: string[] = [];
    for (const job of jobs) args.push(job.id, job.queue);
    const owners = await slots.connection.call(
      "enqueue jobs",
      SCRIPTS.claimIds,
      slots.indexKey,
      ["", ...args],
    ) as (string | null)[];
    // An id the index gives to another queue normally exists there; if it
    // does not (a stale entry left by an interrupted call), take it over.
    const stale: string[] = [];
    await Promise.all(jobs.map(async (job, i) => {
      const owner = owners[i];
      if (owner === null || owner === job.queue) return;
      if (await getJob(slots, job.id) === null) {
        stale.push(job.id, job.queue);
        owners[i] = job.queue;
      }
    }));
    if (stale.length > 0) {
      await slots.connection.command(
        "enqueue jobs",
        () => slots.connection.commands.hset(slots.indexKey, stale),
      );
    }
    jobs.forEach((job, i) => {
      const queue = owners[i] ?? job.queue;
      let group = groups.get(queue);
      if (group === undefined) groups.set(queue, group = []);
      group.push(i);
    });
  } else {
    groups.set("", jobs.map((_, i) => i));
  }
  // Whether an id repeats within this call (the script then checks each id).
  const dups = new Set(jobs.map((job) => job.id)).size < jobs.length ? "1" : "";
  const calls: Promise<void>[] = [];
  // Ids of jobs that their dedupe key kept from being stored, with their queue.
  let unclaimed: string[] | undefined;
  for (const [queue, indexes] of groups) {
    const args: (string | number)[] = [now, dups];
    packRuns(args, jobs, indexes, payloads, now);
    const call = slots.run("enqueue jobs", SCRIPTS.enqueue, slots.queueTags ? queue : "", args);
    calls.push(call.then((reply) => {
      const kept = notStored(reply as Reply[], jobs, indexes, results);
      for (const i of kept) {
        (unclaimed ??= []).push(jobs[i].id, queue === "" ? jobs[i].queue : queue);
      }
    }));
  }
  // While Redis works: the results of stored jobs (a reply changes the
  // entries of jobs that were not stored, after this loop).
  for (let i = 0; i < jobs.length; i++) results[i] = stored(jobs[i], payloads[i], now);
  await Promise.all(calls);
  if (unclaimed !== undefined && slots.queueTags) await unclaim(slots, unclaimed);
  return results;
}

/**
 * Refuses jobs whose id or queue would not fit RedisStorage's keys, before
 * anything is sent: queue names go into key names and the packed field d
 * (refused as Queue would refuse them, checked once per run of equal
 * names), and an id with a lone surrogate becomes U+FFFD in UTF-8, so two
 * such ids would be one key and the second enqueue would return the first
 * job.
 *
 * @example
 * ```ts ignore
 * checkKeyParts(jobs, "Cannot enqueue jobs"); // throws "Cannot enqueue jobs: jobs[0].queue ..."
 * ```
 */
export function checkKeyParts(jobs: readonly NewJob[], where: string): void {
  let checked: string | undefined;
  for (let i = 0; i < jobs.length; i++) {
    checkWellFormed(jobs[i].id, `${where}: jobs[${i}].id`);
    if (jobs[i].queue === checked) continue;
    validateName(jobs[i].queue, `${where}: jobs[${i}].queue`, "queue");
    checked = jobs[i].queue;
  }
}

/**
 * Appends the jobs at `indexes` to a script's ARGV as the runs that
 * `storeJobs` reads (see lua/enqueue.ts): runs of jobs that share queue,
 * priority, runAt and the packed field d (a whole enqueueMany is one run)
 * send those once; a job with dedupe is a run of its own.
 *
 * @example
 * ```ts ignore
 * const args: (string | number)[] = [now, ""];
 * packRuns(args, jobs, jobs.map((_, i) => i), payloads, now);
 * ```
 */
export function packRuns(
  args: (string | number)[],
  jobs: readonly NewJob[],
  indexes: readonly number[],
  payloads: readonly string[],
  now: number,
): void {
  let run: NewJob | undefined;
  let countAt = 0;
  // A run's count is "n:group" when its jobs have a group (see the script).
  const endRun = () => {
    if (run?.group !== undefined) args[countAt] = `${args[countAt]}:${run.group}`;
  };
  for (const i of indexes) {
    const job = jobs[i];
    const dedupe = job.dedupe;
    if (dedupe !== undefined) {
      // A run of its own (see the script).
      endRun();
      const head = job.group === undefined ? "D" : `D:${job.group}`;
      args.push(job.queue, job.priority, job.runAt, packData(job, now), head);
      args.push(
        job.id,
        payloads[i],
        dedupe.key,
        dedupe.mode,
        dedupe.ttl ?? "",
        dedupe.delay ?? "",
      );
      run = undefined;
      continue;
    }
    if (
      run === undefined || job.queue !== run.queue || job.priority !== run.priority ||
      job.runAt !== run.runAt || job.name !== run.name ||
      job.maxAttempts !== run.maxAttempts || job.maxStalls !== run.maxStalls ||
      job.timeout !== run.timeout || job.group !== run.group
    ) {
      endRun();
      run = job;
      args.push(job.queue, job.priority, job.runAt, packData(job, now), 0);
      countAt = args.length - 1;
    }
    args.push(job.id, payloads[i]);
    args[countAt] = (args[countAt] as number) + 1;
  }
  endRun();
}

export function stored(job: NewJob, payload: string, now: number): EnqueueResult {
  return { job: enqueuedRecord(job, JSON.parse(payload), now), created: true };
}

/**
 * Applies `storeJobs`' reply (position, fields of each job that was not
 * stored) to `results`: those entries become the stored job, `created:
 * false`, and `deduplicated` when the job's dedupe key decided (then the
 * position reads "u" or "b", the position, ":", the id of the key's job).
 * Returns the indexes of the jobs their dedupe key kept out.
 *
 * @example
 * ```ts ignore
 * const kept = notStored(reply as Reply[], jobs, indexes, results);
 * ```
 */
export function notStored(
  rows: readonly Reply[],
  jobs: readonly NewJob[],
  indexes: readonly number[],
  results: EnqueueResult[],
): number[] {
  const kept: number[] = [];
  for (let r = 0; r < rows.length; r += 2) {
    const at = rows[r];
    if (typeof at === "string" && (at[0] === "u" || at[0] === "b")) {
      const colon = at.indexOf(":");
      const i = indexes[Number(at.slice(1, colon)) - 1];
      results[i] = {
        job: toRecord(at.slice(colon + 1), rows[r + 1] as (string | null)[]),
        created: false,
        deduplicated: at[0] === "u" ? "duplicate" : "debounced",
      };
      kept.push(i);
      continue;
    }
    const i = indexes[Number(at) - 1];
    results[i] = {
      job: toRecord(jobs[i].id, rows[r + 1] as (string | null)[]),
      created: false,
    };
  }
  return kept;
}

/**
 * queueTags mode: gives back the id-index claims of jobs that were not
 * stored because their dedupe key decided (pairs id, queue), so the index
 * does not fill with ids of jobs that never were. An id that a concurrent
 * enqueue stored meanwhile gets its entry back.
 */
async function unclaim(slots: Slots, pairs: string[]): Promise<void> {
  await slots.connection.call("enqueue jobs", SCRIPTS.forgetStale, slots.indexKey, ["", ...pairs]);
  const byQueue = new Map<string, string[]>();
  for (let p = 0; p < pairs.length; p += 2) {
    let ids = byQueue.get(pairs[p + 1]);
    if (ids === undefined) byQueue.set(pairs[p + 1], ids = []);
    ids.push(pairs[p]);
  }
  const back: string[] = [];
  await Promise.all([...byQueue].map(async ([queue, ids]) => {
    const exists = await slots.run("enqueue jobs", SCRIPTS.exist, queue, ids) as number[];
    ids.forEach((id, n) => {
      if (exists[n] === 1) back.push(id, queue);
    });
  }));
  if (back.length === 0) return;
  await slots.connection.command(
    "enqueue jobs",
    () => slots.connection.commands.hset(slots.indexKey, back),
  );
}
