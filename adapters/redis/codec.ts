/**
 * The job hash: its field names and order, the packed field `d`, and
 * decoding a hash into a {@linkcode JobRecord}. The Lua side builds its
 * field lists from these constants (see `lua/fields.ts`), so a field is
 * added in one place.
 *
 * Enqueue writes only two fields, `payload` and `d`, because creating a job
 * hash is most of the work Redis does per enqueued job. `d` packs what never
 * changes after enqueue plus the enqueue's sequence number and runAt:
 * `priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq`
 * (queue names hold no "|"; seq is after the last "|", so the name may hold
 * any character). A job enqueued by task name leaves the settings it did not
 * set empty (`0||||...`: the task's); the first RESERVE with that task in its
 * task defaults fills them in and rewrites d, once.
 * Every later state change writes `state`, `seq` and, when it changes,
 * `runAt`, which then override d's. So: `state` absent means waiting, or
 * delayed when d's runAt is after enqueuedAt (as enqueue decided); `seq` and
 * `runAt` absent mean d's. `attempt` and `stalls` are absent until they are
 * first set: absent means 0. A job enqueued with dedupe also gets
 * `dedupeKey` and, with a ttl, `dedupeUntil` (see `lua/dedupe.ts`); a job
 * of a group gets `g`, its group (see `lua/flow.ts`).
 *
 * @example
 * ```ts ignore
 * const record = toRecord("a", row); // row: HMGET job:a ...FIELDS
 * ```
 *
 * @module
 */

import type { NewJob } from "../../core/storage.ts";
import type { JobError, JobRecord, JobState, JsonValue } from "../../core/task.ts";
import { JOB_STATES } from "../../core/task.ts";

/**
 * The job hash fields read back as a record, in this order (HMGET).
 *
 * @example
 * ```ts ignore
 * const row = await client.hmget(`{taskmill}:job:a`, ...FIELDS);
 * ```
 */
export const FIELDS = [
  "d",
  "payload",
  "attempt",
  "stalls",
  "runAt",
  "state",
  "startedAt",
  "finishedAt",
  "owner",
  "token",
  "expiresAt",
  "progress",
  "result",
  "error",
  "errors",
  "raw",
  "dedupeKey",
  "g",
] as const;

/** A field of the job hash that is read back (see {@linkcode FIELDS}). */
export type Field = typeof FIELDS[number];

/**
 * Where each field sits in a {@linkcode FIELDS} row.
 *
 * @example
 * ```ts ignore
 * const state = row[F.state];
 * ```
 */
export const F: { readonly [K in Field]: number } = Object.freeze(
  Object.fromEntries(FIELDS.map((name, i) => [name, i])) as { [K in Field]: number },
);

/**
 * The fields RESERVE reads back (HMGET order): what a reserved job needs
 * besides what the script knows already (its queue, state, startedAt and the
 * lease it sets itself). The first RESERVE_FIRST are read for every job; the
 * rest only when `attempt` is present, because every write that sets one of
 * them (a lease, progress, an outcome, a stall, a repair, a retry of a
 * failed job) also sets `attempt`: a job never reserved has none of them.
 *
 * @example
 * ```ts ignore
 * const attempt = row[RESERVE_FIELDS.indexOf("attempt")];
 * ```
 */
export const RESERVE_FIELDS: readonly Field[] = [
  "d",
  "payload",
  "attempt",
  "runAt",
  "errors",
  "dedupeKey",
  "g",
  "stalls",
  "progress",
  "result",
  "error",
  "raw",
];

/**
 * How many {@linkcode RESERVE_FIELDS} every reserved job reads (see there).
 *
 * @example
 * ```ts ignore
 * const neverReserved = row.length === RESERVE_FIRST;
 * ```
 */
export const RESERVE_FIRST = 7;

/**
 * Width of the zero-padded sequence that prefixes sorted-set members
 * (`<seq><id>`) and ends lease tokens (`<queue>:<seq>`).
 *
 * @example
 * ```ts ignore
 * const id = member.slice(SEQ_WIDTH);
 * ```
 */
export const SEQ_WIDTH = 15;

// Where each RESERVE_FIELDS value goes in a FIELDS row.
const RESERVE_INDEX = RESERVE_FIELDS.map((f) => F[f]);

/**
 * The packed field `d` without its trailing seq (the script adds it):
 * `priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|`.
 *
 * @example
 * ```ts ignore
 * args.push(packData(job, now));
 * ```
 */
export function packData(job: NewJob, now: number): string {
  // An unset setting (null: the task's) is an empty part, filled in by RESERVE.
  return `${job.priority}|${job.maxAttempts ?? ""}|${job.maxStalls ?? ""}|${job.timeout ?? ""}|` +
    `${now}|${job.runAt}|${job.queue}|${job.name}|`;
}

/** `d` split at "|": its name is parts 7 to the one before last (names may hold "|"). */
function nameOfParts(d: readonly string[]): string {
  return d.length > 8 ? d.slice(7, -1).join("|") : "";
}

/** The fields that are present, as a JSON object: what a record that does not parse keeps. */
function rawText(f: readonly (string | null)[], skipRaw: boolean): string {
  const raw: Record<string, string> = {};
  FIELDS.forEach((name, i) => {
    if (f[i] !== null && !(skipRaw && name === "raw")) raw[name] = f[i] as string;
  });
  return JSON.stringify(raw);
}

/**
 * The FIELDS row of a job RESERVE just leased, from its RESERVE_FIELDS
 * values (`row`) plus what the script set: what {@linkcode buriedFields}
 * needs when the row does not parse.
 *
 * @example
 * ```ts ignore
 * const fields = reservedRow(row, owner, token, now, now + leaseMs);
 * ```
 */
export function reservedRow(
  row: readonly (string | null)[],
  owner: string,
  token: string,
  now: number,
  expiresAt: number,
): (string | null)[] {
  const fields: (string | null)[] = new Array(FIELDS.length).fill(null);
  for (let j = 0; j < row.length; j++) fields[RESERVE_INDEX[j]] = row[j];
  fields[F.state] = "active";
  fields[F.startedAt] = String(now);
  fields[F.owner] = owner;
  fields[F.token] = token;
  fields[F.expiresAt] = String(expiresAt);
  return fields;
}

/**
 * The field/value pairs of a readable failed record replacing one that does
 * not parse: valid fields kept, the rest defaulted, the old text in `raw`.
 *
 * @example
 * ```ts ignore
 * const pairs = buriedFields("a", "default", fields, "payload is missing", Date.now());
 * ```
 */
export function buriedFields(
  id: string,
  queue: string,
  fields: readonly (string | null)[],
  reason: string,
  now: number,
): string[] {
  const attempt = Number(fields[F.attempt]);
  const error: JobError = {
    message: `Cannot parse the stored job ${id}: ${reason}`,
    name: "CorruptRecordError",
    attempt: Number.isInteger(attempt) ? attempt : 0,
    at: now,
  };
  const isNum = (v: string | null): v is string =>
    v !== null && v !== "" && Number.isFinite(Number(v));
  const keep = (v: string | null, fallback: string) => isNum(v) ? v : fallback;
  const isJson = (v: string) => {
    try {
      JSON.parse(v);
      return true;
    } catch {
      return false;
    }
  };
  const d = (fields[F.d] ?? "").split("|");
  const name = nameOfParts(d);
  const payload = fields[F.payload];
  const errorText = JSON.stringify(error);
  return [
    "d",
    [
      keep(d[0] ?? null, "0"),
      keep(d[1] ?? null, "1"),
      keep(d[2] ?? null, "0"),
      keep(d[3] ?? null, "0"),
      keep(d[4] ?? null, String(now)),
      keep(d[5] ?? null, String(now)),
      queue,
      name === "" ? "unknown" : name,
      d.length > 8 ? keep(d[d.length - 1], "0") : "0",
    ].join("|"),
    "payload",
    payload !== null && isJson(payload) ? payload : "null",
    "attempt",
    String(error.attempt),
    "stalls",
    keep(fields[F.stalls], "0"),
    "runAt",
    keep(fields[F.runAt], String(now)),
    "startedAt",
    String(now),
    "error",
    errorText,
    "errors",
    errorText,
    "raw",
    rawText(fields, true),
  ];
}

// ---- decoding ---------------------------------------------------------------

function num(value: string | null, name: string): number {
  if (value === null || value === "") throw new Error(`${name} is missing`);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} is not a number`);
  return n;
}

function json(value: string, name: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}

function jobError(value: unknown, name: string): JobError {
  const e = value as JobError;
  if (
    typeof e !== "object" || e === null || typeof e.message !== "string" ||
    typeof e.name !== "string"
  ) {
    throw new Error(`${name} is not an error record`);
  }
  return e;
}

/** A number in `d` between two separators. */
function numAt(d: string, from: number, to: number, name: string): number {
  if (to <= from) throw new Error(`${name} is missing`);
  const n = Number(d.slice(from, to));
  if (!Number.isFinite(n)) throw new Error(`${name} is not a number`);
  return n;
}

/** A field that is absent until first set (absent = 0). */
function count(value: string | null, name: string): number {
  return value === null ? 0 : num(value, name);
}

/**
 * The parts every record has: the packed field `d`, the payload, counters and
 * error history. A `state` or `runAt` that is absent comes from `d` (see the
 * module doc). Throws when they do not parse.
 */
function baseRecord(
  id: string,
  state: string | null,
  d: string | null,
  payload: string | null,
  attempt: string | null,
  stalls: string | null,
  runAt: string | null,
  errors: string | null,
): JobRecord {
  if (d === null || d === "") throw new Error("the job data (field d) is missing");
  // priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq
  const at: number[] = [];
  for (let p = d.indexOf("|"); p >= 0; p = d.indexOf("|", p + 1)) at.push(p);
  // Part k (0-based) ends at at[k]; the parts are checked in order.
  const part = (k: number, name: string): number => {
    if (at.length <= k) throw new Error("the job data (field d) has too few parts");
    return numAt(d, k === 0 ? 0 : at[k - 1] + 1, at[k], name);
  };
  const priority = part(0, "priority");
  // Empty: unset, the task's (enqueued by name; RESERVE fills them in).
  const unsetOr = (k: number, name: string) => at[k] === at[k - 1] + 1 ? null : part(k, name);
  if (at.length < 4) throw new Error("the job data (field d) has too few parts");
  const maxAttempts = unsetOr(1, "maxAttempts");
  const maxStalls = unsetOr(2, "maxStalls");
  const timeout = unsetOr(3, "timeout");
  const enqueuedAt = part(4, "enqueuedAt");
  const firstRunAt = part(5, "runAt");
  if (at.length < 8) throw new Error("the job data (field d) has too few parts");
  const queue = d.slice(at[5] + 1, at[6]);
  if (queue === "") throw new Error("queue is missing");
  const name = d.slice(at[6] + 1, at[at.length - 1]);
  if (name === "") throw new Error("name is missing");
  if (payload === null) throw new Error("payload is missing");
  if (state === null) state = firstRunAt > enqueuedAt ? "delayed" : "waiting";
  else if (!JOB_STATES.includes(state as JobState)) throw new Error("state is not a job state");
  return {
    id,
    name,
    queue,
    payload: json(payload, "payload"),
    priority,
    attempt: count(attempt, "attempt"),
    maxAttempts,
    stalls: count(stalls, "stalls"),
    maxStalls,
    timeout,
    enqueuedAt,
    runAt: runAt === null ? firstRunAt : num(runAt, "runAt"),
    state: state as JobState,
    errors: errors === null || errors === ""
      ? []
      : errors.split("\n").map((e) => jobError(json(e, "errors"), "errors")),
  };
}

/** Fills the optional parts of a record. */
function optional(
  record: JobRecord,
  progress: string | null,
  result: string | null,
  error: string | null,
  raw: string | null,
): JobRecord {
  if (progress !== null) record.progress = json(progress, "progress") as JsonValue;
  if (result !== null) record.result = json(result, "result");
  if (error !== null) record.error = jobError(json(error, "error"), "error");
  if (raw !== null) record.raw = raw;
  return record;
}

/**
 * Builds a reserved job from a RESERVE reply: its RESERVE_FIELDS values
 * (`row`), plus what the script set. Throws when they do not parse.
 *
 * @example
 * ```ts ignore
 * jobs.push(parseReserved(id, queue, token, owner, now, expiresAt, row));
 * ```
 */
export function parseReserved(
  id: string,
  queue: string,
  token: string,
  owner: string,
  now: number,
  expiresAt: number,
  row: (string | null)[],
): JobRecord {
  // RESERVE_FIELDS: d, payload, attempt, runAt, errors, dedupeKey, g, then
  // (only for a job reserved before) stalls, progress, result, error, raw.
  const record = baseRecord(
    id,
    "active",
    row[0],
    row[1],
    row[2],
    row[7] ?? null,
    row[3],
    row[4],
  );
  if (record.queue !== queue) throw new Error("the job data (field d) names another queue");
  record.startedAt = now;
  record.lease = { owner, token, expiresAt };
  const dedupeKey = row[5];
  if (dedupeKey !== null && dedupeKey !== undefined) record.dedupeKey = dedupeKey;
  const group = row[6];
  if (group !== null && group !== undefined) record.group = group;
  if (row.length <= RESERVE_FIRST) return record;
  return optional(record, row[8], row[9], row[10], row[11]);
}

/** Builds a record from HMGET FIELDS values; throws when they do not parse. */
function parseRecord(id: string, f: (string | null)[]): JobRecord {
  const record = baseRecord(
    id,
    f[F.state],
    f[F.d],
    f[F.payload],
    f[F.attempt],
    f[F.stalls],
    f[F.runAt],
    f[F.errors],
  );
  const startedAt = f[F.startedAt];
  const finishedAt = f[F.finishedAt];
  const owner = f[F.owner];
  const token = f[F.token];
  const expiresAt = f[F.expiresAt];
  if (startedAt !== null) record.startedAt = num(startedAt, "startedAt");
  if (finishedAt !== null) record.finishedAt = num(finishedAt, "finishedAt");
  if (record.state === "active" && owner !== null && token !== null && expiresAt !== null) {
    record.lease = { owner, token, expiresAt: num(expiresAt, "expiresAt") };
  }
  optional(record, f[F.progress], f[F.result], f[F.error], f[F.raw]);
  const dedupeKey = f[F.dedupeKey];
  if (dedupeKey !== null) record.dedupeKey = dedupeKey;
  const group = f[F.g];
  if (group !== null) record.group = group;
  return record;
}

/**
 * For reads (getJob, list): a record that does not parse is still shown,
 * best effort, with its raw fields in `raw` (reserve moves such records to
 * failed).
 *
 * @example
 * ```ts ignore
 * const record = toRecord("a", await client.hmget("{taskmill}:job:a", ...FIELDS));
 * ```
 */
export function toRecord(id: string, f: (string | null)[]): JobRecord {
  try {
    return parseRecord(id, f);
  } catch {
    const n = (v: string | null | undefined) => {
      const x = Number(v);
      return v !== null && v !== undefined && v !== "" && Number.isFinite(x) ? x : 0;
    };
    // priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq
    const d = (f[F.d] ?? "").split("|");
    const payloadText = f[F.payload];
    let payload: unknown = null;
    try {
      payload = payloadText === null ? null : JSON.parse(payloadText);
    } catch { /* kept in raw */ }
    const state = f[F.state];
    return {
      id,
      name: nameOfParts(d),
      queue: d[6] ?? "",
      payload,
      priority: n(d[0]),
      attempt: n(f[F.attempt]),
      maxAttempts: d[1] === "" ? null : n(d[1]),
      stalls: n(f[F.stalls]),
      maxStalls: d[2] === "" ? null : n(d[2]),
      timeout: d[3] === "" ? null : n(d[3]),
      enqueuedAt: n(d[4]),
      runAt: n(f[F.runAt] ?? d[5]),
      state: JOB_STATES.includes(state as JobState)
        ? state as JobState
        : state === null && d.length > 8
        ? (n(d[5]) > n(d[4]) ? "delayed" : "waiting")
        : "failed",
      errors: [],
      raw: rawText(f, false),
    };
  }
}
