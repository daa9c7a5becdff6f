/**
 * Enqueueing: storing new jobs, idempotent by id, in one script call per slot.
 *
 * @module
 */

import { checkWellFormed, validateName } from "../../core/_validate.ts";
import type { EnqueueResult, NewJob } from "../../core/storage.ts";
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
  jobs: readonly NewJob[],
  now: number,
): Promise<EnqueueResult[]> {
  if (jobs.length === 0) return [];
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
      try {
        await slots.connection.commands.hset(slots.indexKey, stale);
      } catch (error) {
        throw slots.connection.error("enqueue jobs", error);
      }
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
  for (const [queue, indexes] of groups) {
    const args: (string | number)[] = [now, dups];
    packRuns(args, jobs, indexes, payloads, now);
    const call = slots.run("enqueue jobs", SCRIPTS.enqueue, slots.queueTags ? queue : "", args);
    calls.push(call.then((reply) => notStored(reply as Reply[], jobs, indexes, results)));
  }
  // While Redis works: the results of stored jobs (a reply changes the
  // entries of jobs that were not stored, after this loop).
  for (let i = 0; i < jobs.length; i++) results[i] = stored(jobs[i], payloads[i], now);
  await Promise.all(calls);
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
 * send those once.
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
  for (const i of indexes) {
    const job = jobs[i];
    if (
      run === undefined || job.queue !== run.queue || job.priority !== run.priority ||
      job.runAt !== run.runAt || job.name !== run.name ||
      job.maxAttempts !== run.maxAttempts || job.maxStalls !== run.maxStalls ||
      job.timeout !== run.timeout
    ) {
      run = job;
      args.push(job.queue, job.priority, job.runAt, packData(job, now), 0);
      countAt = args.length - 1;
    }
    args.push(job.id, payloads[i]);
    args[countAt] = (args[countAt] as number) + 1;
  }
}

/**
 * The result of a job that `storeJobs` stored (`created: true`), built
 * without a read: what enqueue writes is known.
 *
 * @example
 * ```ts ignore
 * const result = stored(job, JSON.stringify(job.payload), now);
 * ```
 */
export function stored(job: NewJob, payload: string, now: number): EnqueueResult {
  return {
    job: {
      id: job.id,
      name: job.name,
      queue: job.queue,
      payload: JSON.parse(payload),
      priority: job.priority,
      attempt: 0,
      maxAttempts: job.maxAttempts,
      stalls: 0,
      maxStalls: job.maxStalls,
      timeout: job.timeout,
      enqueuedAt: now,
      runAt: job.runAt,
      state: job.runAt <= now ? "waiting" : "delayed",
      errors: [],
    },
    created: true,
  };
}

/**
 * Applies `storeJobs`' reply (position, fields of each job that was not
 * stored) to `results`: those entries become the stored job, `created: false`.
 *
 * @example
 * ```ts ignore
 * notStored(reply as Reply[], jobs, indexes, results);
 * ```
 */
export function notStored(
  rows: readonly Reply[],
  jobs: readonly NewJob[],
  indexes: readonly number[],
  results: EnqueueResult[],
): void {
  for (let r = 0; r < rows.length; r += 2) {
    const i = indexes[Number(rows[r]) - 1];
    results[i] = {
      job: toRecord(jobs[i].id, rows[r + 1] as (string | null)[]),
      created: false,
    };
  }
}
