// Lua script PROMOTE. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, QKEY, MEMBER,
// D_PARTS, MARKS, TO_WAITING, EVENTS.

import { D_PARTS } from "./fields.ts";
import { EVENTS } from "./events.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { MEMBER } from "./seq.ts";
import { script } from "./snippet.ts";
import { TO_WAITING } from "./states.ts";

/**
 * ARGV: base, id, now. Makes a delayed job waiting now (`runAt = now`),
 * keeping its attempts, stalls and errors. Returns 1/0.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("PROMOTE", PROMOTE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const PROMOTE: string = script(
  [JKEY, QKEY, MEMBER, D_PARTS, MARKS, TO_WAITING, EVENTS],
  `
local id, now = ARGV[2], ARGV[3]
local k = jkey(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'd')
-- An absent state is the enqueue's (waiting or delayed, see FIELDS): the
-- ZREM from the delayed set then tells which.
if h[1] ~= 'delayed' and h[1] ~= false then return 0 end
local seq, q = seqQueueOf(h[3])
if q == nil then return 0 end
if redis.call('ZREM', qkey(q, 'delayed'), member(tonumber(h[2]) or seq or 0, id)) == 0 then
  return 0
end
redis.call('HSET', k, 'runAt', now)
toWaiting(k, id, q, prioOf(h[3]))
flushMarks()
emit(q, '["w",' .. jstr(id) .. ',2]')
flushEvents(now)
return 1
`,
);
