// Lua script BURY. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1] being
// the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, QKEY, TO_FINISHED, EVENTS.

import { SEQ_WIDTH } from "../codec.ts";
import { EVENTS } from "./events.ts";
import { JKEY, QKEY } from "./keys.ts";
import { script } from "./snippet.ts";
import { TO_FINISHED } from "./states.ts";

/**
 * ARGV: base, now, then per record: id, queue, token, field count n, then n
 * field/value pairs. Replaces unparseable records just reserved with a
 * readable failed record (the raw text kept). Returns 1/0 per record.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("BURY", BURY); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const BURY: string = script(
  [JKEY, QKEY, TO_FINISHED, EVENTS],
  `
local now = ARGV[2]
local out = {}
local i = 3
while i <= #ARGV do
  local id, q, token, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local k = jkey(id)
  local h = redis.call('HMGET', k, 'state', 'token')
  if h[1] == 'active' and h[2] == token then
    redis.call('ZREM', qkey(q, 'active'), string.sub(token, -${SEQ_WIDTH}) .. id)
    redis.call('DEL', k)
    redis.call('HSET', k, unpack(ARGV, i + 4, i + 3 + 2 * n))
    toFinished(k, id, q, 'failed', now)
    local err = redis.call('HGET', k, 'error')
    if err then emit(q, '["f",' .. jstr(id) .. ',' .. err .. ']') end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  i = i + 4 + 2 * n
end
flushEvents(now)
return out
`,
);
