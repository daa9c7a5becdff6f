/**
 * Schedules on Redis (the schedules half of the Storage port: see
 * `core/storage_schedules.ts`).
 *
 * A schedule is the hash `{T}:sched:ID` in its queue's slot (fields: see
 * `SCHEDULE_FIELDS` in lua/schedules.ts), with an entry in its queue's
 * sorted set `{T}:q:Q:sched` scored by `nextRunAt` (what `dueSchedules`
 * reads), and an entry in the index `{prefix}:schedules` (id → queue, in
 * the prefix's own slot: what `schedules()` lists, and, with `queueTags`,
 * how a call that starts from an id finds the schedule's slot). Without
 * `queueTags` all three share the slot `{prefix}`, and every method is one
 * script call. A fire whose jobs are not all in the schedule's queue is
 * refused (their keys could be in another slot; the core never makes one).
 *
 * With `queueTags` the index lives in another slot than the schedule, so a
 * method takes more steps, in an order that keeps the index the truth: a
 * record the index does not point to is a leftover, never returned, never
 * fired.
 *
 * - Create: the index entry first, then the record. A crash between the
 *   two leaves an entry without a record: the schedule does not exist
 *   (`getSchedule` null, not listed); the next upsert creates it.
 * - Move (an update that changes `job.queue`): read the old record, write
 *   the new one (carrying revision, times and last tick), point the index
 *   at the new queue, delete the old record (only if its revision is still
 *   the one read). A crash before the index moves leaves the schedule in
 *   the old queue as it was (the update did not happen; the copy in the new
 *   queue is a leftover); a crash after leaves a leftover in the old queue.
 *   Leftovers are harmless: `dueSchedules` drops the records the index
 *   does not give to their queue (they are neither returned nor counted in
 *   `nextAt`) and deletes those last updated more than a minute before its
 *   `now` (a grace, so it never cuts a move in progress), and a fire is
 *   routed by the index, so a leftover is never fired.
 * - Fire: the index gives the slot; the one FIRE_SCHEDULE call there does
 *   the compare-and-set and stores the jobs. The id index of jobs
 *   (`{prefix}:ids`) is read before it (an id that another queue holds is
 *   not stored again: its job is returned, as `enqueue` does) but written
 *   only after the fire was applied, for the jobs it stored: a refused fire
 *   writes nothing anywhere. A crash between the fire and that write leaves
 *   jobs that run and settle (reserve knows their queue) but that calls by
 *   id (getJob, remove, retryFailed, promote) do not find, until retention
 *   prunes them.
 * - Remove: the record first, then the index entry (if it still names that
 *   queue); a crash between leaves an entry without a record, as above.
 *
 * Upsert and remove write no events; the jobs a fire stores write their
 * `enqueued` events as `enqueue` does.
 *
 * @module
 */

import { checkWellFormed, validateName } from "../../core/_validate.ts";
import type { EnqueueResult } from "../../core/storage.ts";
import { checkScheduleId } from "../../core/storage_schedule_checks.ts";
import type {
  DueSchedules,
  FireResult,
  MissedTicks,
  NewSchedule,
  ScheduleFire,
  ScheduleRecord,
  UpsertScheduleResult,
} from "../../core/storage_schedules.ts";
import { getJob } from "./admin.ts";
import type { Reply } from "./connection.ts";
import { checkKeyParts, notStored, packRuns, stored } from "./enqueue.ts";
import { SCHEDULE_FIELDS } from "./lua/schedules.ts";
import type { QueueSet } from "./registry.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * How old (by `updatedAt`, ms before the `now` of `dueSchedules`) a
 * leftover record must be before `dueSchedules` deletes it: far longer than
 * a move takes, so a move in progress is never cut.
 */
const LEFTOVER_GRACE_MS = 60_000;

/** What a schedule's `job` field holds (JSON): the template and timing settings but the queue and payload. */
interface StoredSpec {
  name: string;
  priority: number;
  maxAttempts: number | null;
  maxStalls: number | null;
  timeout: number | null;
  cron: string | null;
  tz: string | null;
  every: number | null;
  missed: MissedTicks;
}

/** The index id → queue of `slots`' prefix. */
function indexKey(slots: Slots): string {
  return `{${slots.prefix}}:schedules`;
}

/**
 * Checks a schedule id as RedisStorage checks job ids: the port's rule, and
 * well-formed Unicode (a lone surrogate becomes U+FFFD in the key, so two
 * ids would name one schedule).
 *
 * @example
 * ```ts ignore
 * checkRedisScheduleId("nightly", "Cannot get schedule");
 * ```
 */
export function checkRedisScheduleId(id: string, where: string): void {
  checkScheduleId(id, where);
  checkWellFormed(id, `${where}: the schedule id`);
}

/** `n` as sent in ARGV ("" for null): `String` keeps every digit. */
function text(n: number | string | null): string {
  return n === null ? "" : String(n);
}

/** A stored field back to what it was ("" is null). */
function numberOrNull(value: string | null): number | null {
  return value === null || value === "" ? null : Number(value);
}

/**
 * The record from its fields (HMGET `SCHEDULE_FIELDS`), or null when there is none.
 *
 * @example
 * ```ts ignore
 * const record = recordOf("nightly", fields);
 * ```
 */
export function recordOf(id: string, fields: readonly (string | null)[]): ScheduleRecord | null {
  const f: Record<string, string | null> = {};
  SCHEDULE_FIELDS.forEach((name, i) => f[name] = fields[i] ?? null);
  if (f.queue === null || f.job === null || f.revision === null) return null;
  const spec = JSON.parse(f.job) as StoredSpec;
  return {
    id,
    job: {
      name: spec.name,
      queue: f.queue,
      payload: JSON.parse(f.payload ?? "null"),
      priority: spec.priority,
      maxAttempts: spec.maxAttempts,
      maxStalls: spec.maxStalls,
      timeout: spec.timeout,
    },
    cron: spec.cron,
    tz: spec.tz,
    every: spec.every,
    startAt: numberOrNull(f.startAt),
    missed: spec.missed,
    timing: f.timing ?? "",
    nextRunAt: Number(f.nextRunAt),
    revision: Number(f.revision),
    createdAt: Number(f.createdAt),
    updatedAt: Number(f.updatedAt),
    lastTickAt: numberOrNull(f.lastTickAt),
    lastJobId: f.lastJobId === null || f.lastJobId === "" ? null : f.lastJobId,
  };
}

/** What UPSERT_SCHEDULE carries over from `record` when it moves to another queue (its ARGV order). */
function carried(record: ScheduleRecord): string[] {
  return [
    text(record.revision),
    text(record.createdAt),
    record.timing,
    text(record.startAt),
    text(record.nextRunAt),
    text(record.lastTickAt),
    record.lastJobId ?? "",
  ];
}

/** The queue the index gives schedule `id`, or null. */
function indexedQueue(slots: Slots, what: string, id: string): Promise<string | null> {
  return slots.connection.command(what, () => slots.connection.client.hget(indexKey(slots), id));
}

/**
 * Reads schedules of one slot by id (GET_SCHEDULES; no ids: every one the
 * index names, without queueTags): null for each missing one.
 */
async function readSchedules(
  slots: Slots,
  what: string,
  queue: string,
  ids: readonly string[],
): Promise<(ScheduleRecord | null)[]> {
  const reply = await slots.run(what, SCRIPTS.getSchedules, queue, [...ids]) as Reply[];
  const out: (ScheduleRecord | null)[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    out.push(recordOf(String(reply[i]), reply[i + 1] as (string | null)[]));
  }
  return out;
}

/**
 * Creates or updates a schedule (see RedisStorage.upsertSchedule).
 *
 * @example
 * ```ts ignore
 * const { schedule, created } = await upsertSchedule(slots, queueSet, schedule, Date.now());
 * ```
 */
export async function upsertSchedule(
  slots: Slots,
  queues: QueueSet,
  schedule: NewSchedule,
  now: number,
): Promise<UpsertScheduleResult> {
  const what = "store schedule";
  checkRedisScheduleId(schedule.id, "Cannot store schedule");
  const { id, job } = schedule;
  validateName(job.queue, "Cannot store schedule: job.queue", "queue");
  const payload = JSON.stringify(job.payload) ?? "null";
  const spec: StoredSpec = {
    name: job.name,
    priority: job.priority,
    maxAttempts: job.maxAttempts,
    maxStalls: job.maxStalls,
    timeout: job.timeout,
    cron: schedule.cron,
    tz: schedule.tz,
    every: schedule.every,
    missed: schedule.missed,
  };
  const args: string[] = [
    id,
    job.queue,
    JSON.stringify(spec),
    payload,
    schedule.timing,
    text(schedule.startAt),
    text(schedule.nextRunAt),
    text(now),
  ];
  const registering = queues.add(what, [job]);
  if (registering !== undefined) await registering;
  let reply: Reply[];
  if (!slots.queueTags) {
    reply = await slots.run(what, SCRIPTS.upsertSchedule, "", [...args, "1"]) as Reply[];
  } else {
    const old = await indexedQueue(slots, what, id);
    const moving = old === null || old === job.queue
      ? null
      : (await readSchedules(slots, what, old, [id]))[0];
    if (moving === null) {
      // Created here, or updated in place: the index entry first (see the module doc).
      if (old !== job.queue) {
        await slots.connection.command(
          what,
          () => slots.connection.client.hset(indexKey(slots), id, job.queue),
        );
      }
      reply = await slots.run(what, SCRIPTS.upsertSchedule, job.queue, [...args, ""]) as Reply[];
    } else {
      // A move: the new record, then the index, then the old record goes.
      reply = await slots.run(what, SCRIPTS.upsertSchedule, job.queue, [
        ...args,
        "",
        ...carried(moving),
      ]) as Reply[];
      await slots.connection.command(
        what,
        () => slots.connection.client.hset(indexKey(slots), id, job.queue),
      );
      await slots.run(what, SCRIPTS.removeSchedule, old!, [id, "", text(moving.revision)]);
    }
  }
  const [created, revision, createdAt, startAt, nextRunAt, lastTickAt, lastJobId] = reply as (
    | string
    | number
  )[];
  return {
    schedule: {
      id,
      job: { ...job, payload: JSON.parse(payload) },
      cron: schedule.cron,
      tz: schedule.tz,
      every: schedule.every,
      startAt: numberOrNull(String(startAt)),
      missed: schedule.missed,
      timing: schedule.timing,
      nextRunAt: Number(nextRunAt),
      revision: Number(revision),
      createdAt: Number(createdAt),
      updatedAt: now,
      lastTickAt: numberOrNull(String(lastTickAt)),
      lastJobId: lastJobId === "" ? null : String(lastJobId),
    },
    created: created === 1,
  };
}

/**
 * Deletes a schedule (see RedisStorage.removeSchedule).
 *
 * @example
 * ```ts ignore
 * const removed = await removeSchedule(slots, "nightly");
 * ```
 */
export async function removeSchedule(slots: Slots, id: string): Promise<boolean> {
  const what = "remove schedule";
  checkRedisScheduleId(id, "Cannot remove schedule");
  if (!slots.queueTags) {
    return await slots.run(what, SCRIPTS.removeSchedule, "", [id, "1", ""]) === 1;
  }
  const queue = await indexedQueue(slots, what, id);
  if (queue === null) return false;
  const removed = await slots.run(what, SCRIPTS.removeSchedule, queue, [id, "", ""]) === 1;
  await slots.connection.call(what, SCRIPTS.forgetStale, indexKey(slots), ["", id, queue]);
  return removed;
}

/**
 * The schedule, or null (see RedisStorage.getSchedule).
 *
 * @example
 * ```ts ignore
 * const schedule = await getSchedule(slots, "nightly");
 * ```
 */
export async function getSchedule(slots: Slots, id: string): Promise<ScheduleRecord | null> {
  const what = "get schedule";
  checkRedisScheduleId(id, "Cannot get schedule");
  const queue = slots.queueTags ? await indexedQueue(slots, what, id) : "";
  if (queue === null) return null;
  return (await readSchedules(slots, what, queue, [id]))[0];
}

/**
 * Every schedule of the prefix, by id, from the index (no key scan; see
 * RedisStorage.schedules).
 *
 * @example
 * ```ts ignore
 * for (const schedule of await listSchedules(slots)) console.log(schedule.id);
 * ```
 */
export async function listSchedules(slots: Slots): Promise<ScheduleRecord[]> {
  const what = "list schedules";
  let read: (ScheduleRecord | null)[];
  if (!slots.queueTags) {
    read = await readSchedules(slots, what, "", []);
  } else {
    const index = await slots.connection.command(
      what,
      () => slots.connection.client.hgetall(indexKey(slots)),
    );
    const byQueue = new Map<string, string[]>();
    for (const [id, queue] of Object.entries(index)) {
      let ids = byQueue.get(queue);
      if (ids === undefined) byQueue.set(queue, ids = []);
      ids.push(id);
    }
    const queues = await Promise.all(
      [...byQueue].map(([queue, ids]) => readSchedules(slots, what, queue, ids)),
    );
    read = queues.flat();
  }
  // An index entry without its record is a create or remove cut short: no schedule.
  const out = read.filter((record): record is ScheduleRecord => record !== null);
  return out.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** One schedule DUE_SCHEDULES read: its record when due. */
interface Candidate {
  queue: string;
  id: string;
  at: number;
  record: ScheduleRecord | null;
}

/**
 * The due schedules of `queues` and the next time one is due (see
 * RedisStorage.dueSchedules): one script call, or one per queue with
 * `queueTags`, each reading the first `limit + 1` of each queue.
 *
 * @example
 * ```ts ignore
 * const { due, nextAt } = await dueSchedules(slots, ["default"], Date.now(), 10);
 * ```
 */
export async function dueSchedules(
  slots: Slots,
  queues: readonly string[],
  now: number,
  limit: number,
): Promise<DueSchedules> {
  const what = "read due schedules";
  const wanted = [...new Set(queues)];
  const groups = slots.queueTags ? wanted.map((q) => [q]) : [wanted];
  const candidates: Candidate[] = [];
  // Unread schedules of a queue are at least as late as its last one read.
  let bound = Infinity;
  await Promise.all(groups.map(async (group) => {
    if (group.length === 0) return;
    const reply = await slots.run(what, SCRIPTS.dueSchedules, slots.queueTags ? group[0] : "", [
      now,
      limit,
      ...group,
    ]) as Reply[][];
    reply.forEach((row, g) => {
      for (let r = 1; r < row.length; r += 3) {
        const id = String(row[r]);
        const fields = row[r + 2];
        candidates.push({
          queue: group[g],
          id,
          at: Number(row[r + 1]),
          record: Array.isArray(fields) ? recordOf(id, fields as (string | null)[]) : null,
        });
      }
      if (row[0] === 1) bound = Math.min(bound, Number(row[row.length - 2]));
    });
  }));
  const live = slots.queueTags ? await dropLeftovers(slots, what, candidates, now) : candidates;
  live.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const due: ScheduleRecord[] = [];
  let nextAt: number | null = bound === Infinity ? null : bound;
  for (const candidate of live) {
    if (candidate.record !== null && candidate.at <= now && due.length < limit) {
      due.push(candidate.record);
    } else {
      if (nextAt === null || candidate.at < nextAt) nextAt = candidate.at;
      break;
    }
  }
  return { due, nextAt };
}

/**
 * queueTags mode: the due candidates the index gives to their queue (see
 * the module doc); leftovers past the grace are deleted (if unchanged).
 */
async function dropLeftovers(
  slots: Slots,
  what: string,
  candidates: Candidate[],
  now: number,
): Promise<Candidate[]> {
  const due = candidates.filter((c) => c.record !== null);
  if (due.length === 0) return candidates;
  const owners = await slots.connection.command(
    what,
    () => slots.connection.commands.hmget(indexKey(slots), due.map((c) => c.id)),
  );
  const leftovers = new Set<Candidate>();
  due.forEach((candidate, i) => {
    if (owners[i] !== candidate.queue) leftovers.add(candidate);
  });
  if (leftovers.size === 0) return candidates;
  await Promise.all([...leftovers].map((c) => {
    if (c.record!.updatedAt > now - LEFTOVER_GRACE_MS) return undefined;
    return slots.run(what, SCRIPTS.removeSchedule, c.queue, [c.id, "", String(c.record!.revision)]);
  }));
  return candidates.filter((c) => !leftovers.has(c));
}

/**
 * Fires a schedule if it still has the fire's revision and nextRunAt,
 * storing its jobs in the same script call (see RedisStorage.fireSchedule
 * and, for `queueTags`, the module doc).
 *
 * @example
 * ```ts ignore
 * const { fired, jobs } = await fireSchedule(slots, queueSet, fire, Date.now());
 * ```
 */
export async function fireSchedule(
  slots: Slots,
  queues: QueueSet,
  fire: ScheduleFire,
  now: number,
): Promise<FireResult> {
  const what = "fire schedule";
  checkRedisScheduleId(fire.id, "Cannot fire schedule");
  const jobs = fire.jobs;
  checkKeyParts(jobs, "Cannot fire schedule");
  const refused: FireResult = { fired: false, jobs: [] };
  const results: EnqueueResult[] = new Array(jobs.length);
  // The jobs this slot stores (with queueTags, not those another queue holds).
  let mine = jobs.map((_, i) => i);
  let queue = "";
  if (slots.queueTags) {
    const [owner, owners] = await slots.connection.command(what, () =>
      Promise.all([
        slots.connection.client.hget(indexKey(slots), fire.id),
        jobs.length === 0
          ? Promise.resolve([])
          : slots.connection.commands.hmget(slots.indexKey, jobs.map((job) => job.id)),
      ]));
    if (owner === null || (jobs.length > 0 && jobs[0].queue !== owner)) return refused;
    queue = owner;
    // An id another queue holds is that queue's job (as enqueue returns it);
    // a stale entry (its job is gone) is taken over.
    const foreign = await Promise.all(jobs.map(async (job, i) => {
      if (owners[i] === null || owners[i] === owner) return null;
      return await getJob(slots, job.id);
    }));
    mine = mine.filter((i) => foreign[i] === null);
    foreign.forEach((job, i) => {
      if (job !== null) results[i] = { job, created: false };
    });
  }
  if (jobs.length > 0) {
    const registering = queues.add(what, jobs);
    if (registering !== undefined) await registering;
  }
  const payloads = jobs.map((job) => JSON.stringify(job.payload) ?? "null");
  const dups = new Set(jobs.map((job) => job.id)).size < jobs.length ? "1" : "";
  const args: (string | number)[] = [
    now,
    dups,
    fire.id,
    text(fire.revision),
    text(fire.nextRunAt),
    text(fire.next),
    text(fire.lastTickAt),
    jobs.length > 0 ? jobs[jobs.length - 1].id : "",
  ];
  packRuns(args, jobs, mine, payloads, now);
  const reply = await slots.run(what, SCRIPTS.fireSchedule, queue, args) as Reply[];
  if (reply[0] !== 1) return refused;
  for (const i of mine) results[i] = stored(jobs[i], payloads[i], now);
  notStored(reply[1] as Reply[], jobs, mine, results);
  if (slots.queueTags) {
    // Only now, for the jobs stored: a refused fire writes no index entry.
    const claims: string[] = [];
    for (const i of mine) if (results[i].created) claims.push(jobs[i].id, queue);
    if (claims.length > 0) {
      await slots.connection.command(
        what,
        () => slots.connection.commands.hset(slots.indexKey, claims),
      );
    }
  }
  return { fired: true, jobs: results };
}
