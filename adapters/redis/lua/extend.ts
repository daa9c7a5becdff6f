// Lua script EXTEND. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, QKEY.

import { SEQ_WIDTH } from "../codec.ts";
import { JKEY, QKEY } from "./keys.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, expiresAt, then id, token pairs. Returns 1/0 per lease.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("EXTEND", EXTEND); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const EXTEND: string = script(
  [JKEY, QKEY],
  `
local expiresAt = ARGV[2]
local out = {}
for i = 3, #ARGV, 2 do
  local k = jkey(ARGV[i])
  local h = redis.call('HMGET', k, 'state', 'token')
  if h[1] == 'active' and h[2] == ARGV[i + 1] then
    -- The token is "<queue>:<seq>" (see RESERVE).
    redis.call('HSET', k, 'expiresAt', expiresAt)
    redis.call('ZADD', qkey(string.sub(h[2], 1, -${SEQ_WIDTH + 2}), 'active'), 'XX', expiresAt,
      string.sub(h[2], -${SEQ_WIDTH}) .. ARGV[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`,
);
