/**
 * Inspection and admin: reading jobs and counts, listing, retrying and
 * removing single jobs, pausing and resuming queues.
 *
 * @module
 */

import type { Counts } from "../../core/storage.ts";
import type { JobRecord, JobState } from "../../core/task.ts";
import { FIELDS, toRecord } from "./codec.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * The job, or null (see RedisStorage.getJob).
 *
 * @example
 * ```ts ignore
 * const job = await getJob(slots, "a");
 * ```
 */
export async function getJob(slots: Slots, id: string): Promise<JobRecord | null> {
  const queue = await slots.queueOf("get job", id);
  if (queue === null) return null;
  const fields = await slots.connection.command(
    "get job",
    () => slots.connection.client.hmget(`${slots.tag(queue)}:job:${id}`, ...FIELDS),
  );
  if (fields.every((v) => v === null)) return null;
  return toRecord(id, fields);
}

/**
 * Counts the jobs of a queue in each state (see RedisStorage.counts).
 *
 * @example
 * ```ts ignore
 * const { waiting } = await counts(slots, "default");
 * ```
 */
export async function counts(slots: Slots, queue: string): Promise<Counts> {
  const reply = await slots.run("count jobs", SCRIPTS.counts, queue, [queue]) as number[];
  return {
    waiting: reply[0],
    delayed: reply[1],
    active: reply[2],
    completed: reply[3],
    failed: reply[4],
  };
}

/**
 * Lists jobs of a queue in one state (see RedisStorage.list).
 *
 * @example
 * ```ts ignore
 * const failed = await list(slots, "default", "failed", { limit: 20 });
 * ```
 */
export async function list(
  slots: Slots,
  queue: string,
  state: JobState,
  offset: number,
  limit: number,
): Promise<JobRecord[]> {
  if (limit === 0) return [];
  const reply = await slots.run("list jobs", SCRIPTS.list, queue, [
    queue,
    state,
    offset,
    limit,
  ]) as (string | null)[];
  const out: JobRecord[] = [];
  for (let i = 0; i < reply.length; i += FIELDS.length + 1) {
    out.push(toRecord(reply[i] as string, reply.slice(i + 1, i + 1 + FIELDS.length)));
  }
  return out;
}

/**
 * Moves a failed job back to waiting (see RedisStorage.retryFailed).
 *
 * @example
 * ```ts ignore
 * await retryFailed(slots, "a", Date.now());
 * ```
 */
export async function retryFailed(slots: Slots, id: string, now: number): Promise<string | null> {
  const queue = await slots.queueOf("retry job", id);
  if (queue === null) return null;
  return await slots.run("retry job", SCRIPTS.retryFailed, queue, [id, now]) === 1 ? queue : null;
}

/**
 * Makes a delayed job waiting now (see RedisStorage.promote); its queue, or
 * null if it is missing or not delayed.
 *
 * @example
 * ```ts ignore
 * await promote(slots, "a", Date.now());
 * ```
 */
export async function promote(slots: Slots, id: string, now: number): Promise<string | null> {
  const queue = await slots.queueOf("promote job", id);
  if (queue === null) return null;
  return await slots.run("promote job", SCRIPTS.promote, queue, [id, now]) === 1 ? queue : null;
}

/**
 * Deletes a job that is not active (see RedisStorage.remove), or with
 * `onlyFailed` only a failed one (the check and the delete are one script
 * call).
 *
 * @example
 * ```ts ignore
 * await remove(slots, "a", false, Date.now());
 * ```
 */
export async function remove(
  slots: Slots,
  id: string,
  onlyFailed: boolean,
  now: number,
): Promise<boolean> {
  const what = onlyFailed ? "remove failed job" : "remove job";
  const queue = await slots.queueOf(what, id);
  if (queue === null) return false;
  const args = [id, onlyFailed ? "failed" : "", now];
  const removed = await slots.run(what, SCRIPTS.remove, queue, args) === 1;
  if (removed) await slots.forgetIds(what, [id]);
  return removed;
}

/**
 * Stops reservations from a queue (see RedisStorage.pause).
 *
 * @example
 * ```ts ignore
 * await pause(slots, "default", Date.now());
 * ```
 */
export async function pause(slots: Slots, queue: string, now: number): Promise<void> {
  await slots.run("pause queue", SCRIPTS.pause, queue, [`${slots.tag(queue)}:paused`, queue, now]);
}

/**
 * Lets reservations from a queue happen again and wakes its workers (see RedisStorage.resume).
 *
 * @example
 * ```ts ignore
 * await resume(slots, "default", Date.now());
 * ```
 */
export async function resume(slots: Slots, queue: string, now: number): Promise<void> {
  await slots.run("resume queue", SCRIPTS.resume, queue, [
    `${slots.tag(queue)}:paused`,
    queue,
    now,
  ]);
}

/**
 * Whether a queue is paused (see RedisStorage.isPaused).
 *
 * @example
 * ```ts ignore
 * const paused = await isPaused(slots, "default");
 * ```
 */
export async function isPaused(slots: Slots, queue: string): Promise<boolean> {
  const member = await slots.connection.command(
    "read queue state",
    () => slots.connection.client.sismember(`${slots.tag(queue)}:paused`, queue),
  );
  return member === 1;
}
