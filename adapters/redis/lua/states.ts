/**
 * Lua: moving a job into a state's set, and repairing a job key that is not a hash.
 *
 * @example
 * ```ts ignore
 * const lua = script([WAIT_SCORE], body);
 * ```
 *
 * @module
 */

import { EVENTS } from "./events.ts";
import { FLOW } from "./flow.ts";
import { FMT } from "./fmt.ts";
import { QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { PADDED } from "./seq.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `waitScore(priority)`: a job's score in `wait`.
 *
 * @example
 * ```ts ignore
 * const lua = script([WAIT_SCORE], body);
 * ```
 */
export const WAIT_SCORE: Snippet = snippet(
  ["waitScore"],
  [FMT],
  `
-- Waiting order: score 1000 - priority (higher priority first), then the
-- member's sequence prefix (first in, first out).
local waitScores = {}
local function waitScore(priority)
  local score = waitScores[priority]
  if score == nil then
    score = fmt(1000 - (tonumber(priority) or 0))
    if priority ~= nil and priority ~= false then waitScores[priority] = score end
  end
  return score
end
`,
);

/**
 * `toWaiting(k, id, q, priority)`.
 *
 * @example
 * ```ts ignore
 * const lua = script([TO_WAITING], body);
 * ```
 */
export const TO_WAITING: Snippet = snippet(
  ["toWaiting"],
  [PADDED, QKEY, WAIT_SCORE, MARKS, FLOW],
  `
-- A job of a group waits in its group's lane (see flow.ts), the others in 'wait'.
local function toWaiting(k, id, q, priority)
  local seq = nextPadded()
  local g = flowOn(q) and redis.call('HGET', k, 'g')
  if g then
    redis.call('ZADD', gkey(q, 'gw', g), waitScore(priority), seq .. id)
    pushGrouped(q, g, 1)
  else
    redis.call('ZADD', qkey(q, 'wait'), waitScore(priority), seq .. id)
  end
  redis.call('HSET', k, 'state', 'waiting', 'seq', seq)
  mark(q)
end
`,
);

/**
 * `toDelayed(k, id, q, runAt)`.
 *
 * @example
 * ```ts ignore
 * const lua = script([TO_DELAYED], body);
 * ```
 */
export const TO_DELAYED: Snippet = snippet(
  ["toDelayed"],
  [PADDED, QKEY, MARKS],
  `
local function toDelayed(k, id, q, runAt)
  local seq = nextPadded()
  redis.call('ZADD', qkey(q, 'delayed'), runAt, seq .. id)
  redis.call('HSET', k, 'state', 'delayed', 'seq', seq, 'runAt', runAt)
  mark(q)
end
`,
);

/**
 * `toFinished(k, id, q, state, now)`: to `completed` or `failed`.
 *
 * @example
 * ```ts ignore
 * const lua = script([TO_FINISHED], body);
 * ```
 */
export const TO_FINISHED: Snippet = snippet(
  ["toFinished"],
  [PADDED, QKEY],
  `
local function toFinished(k, id, q, state, now)
  local seq = nextPadded()
  redis.call('ZADD', qkey(q, state), now, seq .. id)
  redis.call('HSET', k, 'state', state, 'seq', seq, 'finishedAt', now)
end
`,
);

/**
 * `notHash(k, id, q, now)`: replaces a job key that is not a hash with a failed record.
 *
 * @example
 * ```ts ignore
 * const lua = script([NOT_HASH], body);
 * ```
 */
export const NOT_HASH: Snippet = snippet(
  ["notHash"],
  [TO_FINISHED, EVENTS],
  `
-- A job key that holds something other than a hash (written by hand or by
-- another program) makes HMGET fail with WRONGTYPE halfway through a script,
-- and Redis does not roll back what a script already did: the jobs popped
-- before the error would vanish from every set. notHash() replaces such a key
-- with a readable failed record that keeps the old value in 'raw', and says so.
local function notHash(k, id, q, now)
  local t = redis.call('TYPE', k)['ok']
  if t == 'hash' or t == 'none' then return false end
  local value = '(a ' .. t .. ')'
  if t == 'string' then value = redis.call('GET', k) end
  local err = '{"message":' .. cjson.encode('Cannot parse the stored job ' .. id ..
    ': its key holds a ' .. t .. ', not a hash') ..
    ',"name":"CorruptRecordError","attempt":0,"at":' .. now .. '}'
  redis.call('DEL', k)
  redis.call('HSET', k, 'd', '0|1|0|0|' .. now .. '|' .. now .. '|' .. q .. '|unknown|0', 'payload', 'null',
    'attempt', '0', 'stalls', '0', 'runAt', now, 'startedAt', now, 'error', err, 'errors', err,
    'raw', '{"type":' .. cjson.encode(t) .. ',"value":' .. cjson.encode(value) .. '}')
  toFinished(k, id, q, 'failed', now)
  emit(q, '["f",' .. jstr(id) .. ',' .. err .. ']')
  return true
end
`,
);
