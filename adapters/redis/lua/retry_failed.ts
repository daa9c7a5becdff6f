// Lua script RETRY_FAILED. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below,
// ARGV[1] being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, QKEY,
// MEMBER, D_PARTS, MARKS, TO_WAITING, EVENTS.

import { D_PARTS } from "./fields.ts";
import { EVENTS } from "./events.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { MEMBER } from "./seq.ts";
import { script } from "./snippet.ts";
import { TO_WAITING } from "./states.ts";

/**
 * ARGV: base, id, now. Moves a failed job to waiting with a fresh budget. Returns 1/0.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("RETRY_FAILED", RETRY_FAILED); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const RETRY_FAILED: string = script(
  [JKEY, QKEY, MEMBER, D_PARTS, MARKS, TO_WAITING, EVENTS],
  `
local id, now = ARGV[2], ARGV[3]
local k = jkey(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'd')
if h[1] ~= 'failed' then return 0 end
local _, q = seqQueueOf(h[3])
if q == nil then return 0 end
redis.call('ZREM', qkey(q, 'failed'), member(tonumber(h[2]) or 0, id))
redis.call('HSET', k, 'attempt', 0, 'stalls', 0, 'runAt', now)
redis.call('HDEL', k, 'finishedAt')
toWaiting(k, id, q, prioOf(h[3]))
flushMarks()
emit(q, '["w",' .. jstr(id) .. ',1]')
flushEvents(now)
return 1
`,
);
