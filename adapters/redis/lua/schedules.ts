// Lua scripts of the schedules (see ../schedules.ts): UPSERT_SCHEDULE, REMOVE_SCHEDULE,
// GET_SCHEDULES, DUE_SCHEDULES, FIRE_SCHEDULE, and their snippet SCHEDULE_KEYS. KEYS[1]: the
// slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1] being the key base "{tag}:".
// Includes (and what they need, see snippet.ts): SCHEDULE_KEYS, QKEY; FIRE_SCHEDULE also
// STORE_JOBS (FIELDS_LIST, SEQ, PADDED, MEMBER, WAIT_SCORE, BATCH, MARKS, EVENTS).

import { EVENTS } from "./events.ts";
import { STORE_JOBS } from "./enqueue.ts";
import { QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { script, type Snippet, snippet } from "./snippet.ts";

/**
 * The fields of a schedule's hash, in the order GET_SCHEDULES and
 * DUE_SCHEDULES read them (see `recordOf` in ../schedules.ts): `queue`,
 * `job` (the template's other settings and the timing's as JSON),
 * `payload` (JSON text), then the fields the scripts maintain as text
 * (`startAt`, `lastTickAt` and `lastJobId`: "" for null).
 *
 * @example
 * ```ts ignore
 * const at = SCHEDULE_FIELDS.indexOf("nextRunAt");
 * ```
 */
export const SCHEDULE_FIELDS: readonly string[] = Object.freeze([
  "queue",
  "job",
  "payload",
  "timing",
  "startAt",
  "nextRunAt",
  "revision",
  "createdAt",
  "updatedAt",
  "lastTickAt",
  "lastJobId",
]);

/**
 * `skey(id)`: the key of a schedule's hash; `SCHEDULE_FIELDS`: its fields
 * (HMGET order). A queue's schedules by `nextRunAt` are the sorted set
 * `qkey(q, 'sched')`; the index id → queue is `base .. 'schedules'`
 * (written by the scripts only when it shares their slot: without
 * `queueTags`).
 *
 * @example
 * ```ts ignore
 * const lua = script([SCHEDULE_KEYS, QKEY], body);
 * ```
 */
export const SCHEDULE_KEYS: Snippet = snippet(
  ["skey", "SCHEDULE_FIELDS"],
  [],
  `
local function skey(id) return base .. 'sched:' .. id end
local SCHEDULE_FIELDS = {${SCHEDULE_FIELDS.map((f) => `'${f}'`).join(", ")}}
`,
);

/**
 * ARGV: base, id, queue, job JSON, payload JSON, timing, startAt ("" for
 * null), nextRunAt, now, index flag ("1": also write the index id →
 * queue), then optionally the state carried from the queue the schedule
 * moves from (revision, createdAt, timing, startAt, nextRunAt, lastTickAt,
 * lastJobId: it stands for the stored record, which is then not read).
 * Creates or updates the schedule (an update whose timing equals the
 * stored one keeps the stored startAt and nextRunAt) and its entry in its
 * queue's sorted set (leaving the old queue's, in the same slot). Returns
 * created (1/0), revision, createdAt, startAt, nextRunAt, lastTickAt,
 * lastJobId as stored.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("UPSERT_SCHEDULE", UPSERT_SCHEDULE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const UPSERT_SCHEDULE: string = script(
  [SCHEDULE_KEYS, QKEY],
  `
local id, q, timing, now = ARGV[2], ARGV[3], ARGV[6], ARGV[9]
local k = skey(id)
-- old: queue, revision, createdAt, timing, startAt, nextRunAt, lastTickAt, lastJobId.
local old
if #ARGV >= 17 then
  old = {false, ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16], ARGV[17]}
else
  old = redis.call('HMGET', k, 'queue', 'revision', 'createdAt', 'timing', 'startAt',
    'nextRunAt', 'lastTickAt', 'lastJobId')
end
local startAt, nextRunAt = ARGV[7], ARGV[8]
local revision, createdAt, lastTickAt, lastJobId, created = '1', now, '', '', 1
if old[2] then
  created = 0
  revision = string.format('%.0f', tonumber(old[2]) + 1)
  createdAt, lastTickAt, lastJobId = old[3], old[7], old[8]
  if old[4] == timing then startAt, nextRunAt = old[5], old[6] end
  if old[1] and old[1] ~= q then redis.call('ZREM', qkey(old[1], 'sched'), id) end
end
redis.call('HSET', k, 'queue', q, 'job', ARGV[4], 'payload', ARGV[5], 'timing', timing,
  'startAt', startAt, 'nextRunAt', nextRunAt, 'revision', revision, 'createdAt', createdAt,
  'updatedAt', now, 'lastTickAt', lastTickAt, 'lastJobId', lastJobId)
redis.call('ZADD', qkey(q, 'sched'), nextRunAt, id)
if ARGV[10] == '1' then redis.call('HSET', base .. 'schedules', id, q) end
return {created, revision, createdAt, startAt, nextRunAt, lastTickAt, lastJobId}
`,
);

/**
 * ARGV: base, id, index flag ("1": also delete the index entry), revision
 * ("" for any). Deletes the schedule, and its entry in its queue's sorted
 * set, if it exists (with that revision when one is given). Returns 1/0.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("REMOVE_SCHEDULE", REMOVE_SCHEDULE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const REMOVE_SCHEDULE: string = script(
  [SCHEDULE_KEYS, QKEY],
  `
local id = ARGV[2]
local k = skey(id)
local h = redis.call('HMGET', k, 'queue', 'revision')
if not h[1] then return 0 end
if ARGV[4] ~= '' and h[2] ~= ARGV[4] then return 0 end
redis.call('DEL', k)
redis.call('ZREM', qkey(h[1], 'sched'), id)
if ARGV[3] == '1' then redis.call('HDEL', base .. 'schedules', id) end
return 1
`,
);

/**
 * ARGV: base, then schedule ids, or none for every id of the index (which
 * shares the slot only without `queueTags`). Returns, per id, the id and
 * its fields (HMGET SCHEDULE_FIELDS: all nil when there is none).
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("GET_SCHEDULES", GET_SCHEDULES); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const GET_SCHEDULES: string = script(
  [SCHEDULE_KEYS],
  `
local ids = {}
for i = 2, #ARGV do ids[i - 1] = ARGV[i] end
if #ids == 0 then ids = redis.call('HKEYS', base .. 'schedules') end
local out = {}
for i, id in ipairs(ids) do
  out[2 * i - 1] = id
  out[2 * i] = redis.call('HMGET', skey(id), unpack(SCHEDULE_FIELDS))
end
return out
`,
);

/**
 * ARGV: base, now, limit, then queues. Returns, per queue, a row: 1 when
 * the queue has more than `limit + 1` schedules (so ones not read may be as
 * early as the last read), else 0, then for each of its first `limit + 1`
 * schedules by nextRunAt: id, score, and its fields (HMGET SCHEDULE_FIELDS)
 * when due at `now`, else 0. The caller merges the queues' rows.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("DUE_SCHEDULES", DUE_SCHEDULES); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const DUE_SCHEDULES: string = script(
  [SCHEDULE_KEYS, QKEY],
  `
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local z = redis.call('ZRANGE', qkey(ARGV[i], 'sched'), 0, limit, 'WITHSCORES')
  local row = {0}
  if #z > 2 * limit then row[1] = 1 end
  for j = 1, #z, 2 do
    row[#row + 1] = z[j]
    row[#row + 1] = z[j + 1]
    if tonumber(z[j + 1]) <= now then
      row[#row + 1] = redis.call('HMGET', skey(z[j]), unpack(SCHEDULE_FIELDS))
    else
      row[#row + 1] = 0
    end
  end
  out[#out + 1] = row
end
return out
`,
);

/**
 * ARGV: base, now, duplicates flag (as ENQUEUE's), id, revision, nextRunAt,
 * next, lastTickAt, lastJobId ("" to keep the stored one), then the runs
 * of jobs (as ENQUEUE's). The compare-and-set of a fire: unless the
 * schedule exists with that revision and nextRunAt, and every job is in its
 * queue (another queue's keys may be in another slot), returns {0} and
 * changes nothing. Else stores the jobs as ENQUEUE does (`storeJobs`),
 * sets nextRunAt (also in the queue's sorted set), lastTickAt and lastJobId,
 * and returns {1, what storeJobs returned}.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("FIRE_SCHEDULE", FIRE_SCHEDULE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const FIRE_SCHEDULE: string = script(
  [SCHEDULE_KEYS, QKEY, STORE_JOBS, MARKS, EVENTS],
  `
local now, id = ARGV[2], ARGV[4]
local k = skey(id)
local h = redis.call('HMGET', k, 'revision', 'nextRunAt', 'queue')
if h[1] ~= ARGV[5] or h[2] ~= ARGV[6] then return {0} end
local r = 10
while r <= #ARGV do
  if ARGV[r] ~= h[3] then return {0} end
  r = r + 5 + 2 * tonumber(ARGV[r + 4])
end
local out = storeJobs(now, ARGV[3] == '1', 10)
redis.call('HSET', k, 'nextRunAt', ARGV[7], 'lastTickAt', ARGV[8])
if ARGV[9] ~= '' then redis.call('HSET', k, 'lastJobId', ARGV[9]) end
redis.call('ZADD', qkey(h[3], 'sched'), ARGV[7], id)
flushMarks()
flushEvents(now)
return {1, out}
`,
);
