/**
 * Reserving: reclaiming expired leases, promoting due delayed jobs and
 * leasing waiting ones, in one script call (per queue with `queueTags`);
 * records that do not parse are moved to failed (buried).
 *
 * @module
 */

import { validateName } from "../../core/_validate.ts";
import type { ReserveRequest, ReserveResult, TaskSettings } from "../../core/storage.ts";
import type { JobRecord } from "../../core/task.ts";
import { buriedFields, F, parseReserved, reservedRow } from "./codec.ts";
import type { Reply } from "./connection.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

const RECLAIM_MAX = 1_000;
const PROMOTE_MAX = 1_000;

/** A reserved job whose record does not parse. */
interface Corrupt {
  id: string;
  queue: string;
  fields: (string | null)[];
  reason: string;
}

/**
 * Reserves up to `request.limit` jobs (see RedisStorage.reserve).
 *
 * @example
 * ```ts ignore
 * const { jobs, nextAt } = await reserve(slots, request);
 * ```
 */
export async function reserve(slots: Slots, request: ReserveRequest): Promise<ReserveResult> {
  const { queues, limit } = request;
  const jobs: JobRecord[] = [];
  let nextAt: number | null = null;
  let quarantined = false;
  const batches = slots.queueTags ? queues.map((q) => [q]) : [queues];
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const tagQueue = batch[0];
    const reply = await slots.run(
      "reserve jobs",
      SCRIPTS.reserve,
      tagQueue,
      reserveArgs(request, limit - jobs.length, `${slots.tag(tagQueue)}:paused`, batch),
    ) as Reply[];
    if (await takeReserved(slots, reply, request, tagQueue, jobs) > 0) quarantined = true;
    if (reply[0] !== null) {
      const at = Number(reply[0]);
      if (nextAt === null || at < nextAt) nextAt = at;
    }
    if (jobs.length >= limit) break;
  }
  // Records moved to failed took places in the batch: a short batch then
  // does not mean the queues are empty (see ReserveResult.more).
  if (quarantined && jobs.length < limit) return { jobs, nextAt, more: true };
  return { jobs, nextAt };
}

/**
 * Parses a RESERVE reply's jobs into `jobs` (records that do not parse are
 * moved to failed) and returns how many were moved.
 */
async function takeReserved(
  slots: Slots,
  reply: Reply[],
  request: ReserveRequest,
  tagQueue: string,
  jobs: JobRecord[],
): Promise<number> {
  const { owner, now } = request;
  const expiresAt = now + request.leaseMs;
  let corrupt: Corrupt[] | undefined;
  for (let i = 1; i < reply.length; i += 4) {
    const id = reply[i] as string;
    const queue = reply[i + 1] as string;
    const token = reply[i + 2] as string;
    const row = reply[i + 3] as (string | null)[];
    try {
      jobs.push(parseReserved(id, queue, token, owner, now, expiresAt, row));
      if (slots.queueTags) slots.remember(id, queue);
    } catch (error) {
      const fields = reservedRow(row, owner, token, now, expiresAt);
      (corrupt ??= []).push({ id, queue, fields, reason: (error as Error).message });
    }
  }
  if (corrupt === undefined) return 0;
  await bury(slots, tagQueue, corrupt, now);
  return corrupt.length;
}

/** Moves records that cannot be parsed to failed, keeping their raw text. */
async function bury(
  slots: Slots,
  tagQueue: string,
  records: Corrupt[],
  now: number,
): Promise<void> {
  const args: (string | number)[] = [now];
  for (const { id, queue, fields, reason } of records) {
    const pairs = buriedFields(id, queue, fields, reason, now);
    args.push(id, queue, fields[F.token] ?? "", pairs.length / 2, ...pairs);
  }
  await slots.run("move corrupt jobs to failed", SCRIPTS.bury, tagQueue, args);
  for (const { id } of records) slots.leased.delete(id);
}

/** RESERVE's arguments after the key base. */
function reserveArgs(
  request: ReserveRequest,
  limit: number,
  pausedKey: string,
  queues: readonly string[],
): (string | number)[] {
  const args: (string | number)[] = [
    request.now,
    limit,
    request.owner,
    request.now + request.leaseMs,
    RECLAIM_MAX,
    PROMOTE_MAX,
    pausedKey,
    queues.length,
  ];
  for (const q of queues) args.push(q);
  args.push(encodeDefaults(request.taskDefaults));
  return args;
}

/** The encoded `taskDefaults` of each map seen (a worker passes the same map every time). */
const encodedDefaults = new WeakMap<ReadonlyMap<string, TaskSettings>, string>();

/**
 * `taskDefaults` as RESERVE's last argument: "\nname maxAttempts maxStalls
 * timeout" per task, which the script searches only for a reserved job with
 * an unset setting (see RESERVE). Checked and encoded once per map.
 */
function encodeDefaults(defaults: ReadonlyMap<string, TaskSettings> | undefined): string {
  if (defaults === undefined) return "";
  let text = encodedDefaults.get(defaults);
  if (text !== undefined) return text;
  // The settings were checked by checkReserve; the encoding needs task
  // names without space, newline or "|" (so the search cannot match across entries).
  text = "";
  for (const [name, settings] of defaults) {
    validateName(name, "Cannot reserve jobs: taskDefaults: task name", "task");
    text += `\n${name} ${settings.maxAttempts} ${settings.maxStalls} ${settings.timeout}`;
  }
  encodedDefaults.set(defaults, text);
  return text;
}

// ---- records ----------------------------------------------------------------
