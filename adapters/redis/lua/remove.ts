// Lua script REMOVE. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): FIELDS_LIST, JKEY,
// QKEY, MEMBER, D_PARTS, EVENTS, DEDUPE.

import { DEDUPE } from "./dedupe.ts";
import { D_PARTS, FIELDS_LIST } from "./fields.ts";
import { EVENTS } from "./events.ts";
import { FLOW } from "./flow.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MEMBER } from "./seq.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, id, and "failed" to delete only a failed job (else any job
 * that is not active). Returns 1/0.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("REMOVE", REMOVE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const REMOVE: string = script(
  [FIELDS_LIST, JKEY, QKEY, MEMBER, D_PARTS, EVENTS, DEDUPE, FLOW],
  `
local id = ARGV[2]
local k = jkey(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'd', 'dedupeKey', 'g')
-- No state and no d: no job (a job's state is absent only before its first
-- change, see FIELDS).
if (h[1] == false and h[3] == false) or h[1] == 'active' then return 0 end
if ARGV[3] == 'failed' and h[1] ~= 'failed' then return 0 end
local seq, q = seqQueueOf(h[3])
if q ~= nil then
  local m = member(tonumber(h[2]) or seq or 0, id)
  redis.call('ZREM', qkey(q, 'wait'), m)
  redis.call('ZREM', qkey(q, 'delayed'), m)
  redis.call('ZREM', qkey(q, 'completed'), m)
  redis.call('ZREM', qkey(q, 'failed'), m)
  -- A waiting job of a group is in its group's lane (flow.ts).
  if h[5] and flowOn(q) then dropGrouped(q, h[5], m, tonumber(ARGV[4])) end
end
redis.call('DEL', k)
-- A deleted job holds no key.
if q ~= nil then releaseKey(q, id, h[4], false, 0, true) end
if q ~= nil then
  emit(q, '["x",' .. jstr(id) .. ']')
  flushEvents(ARGV[4])
end
return 1
`,
);
