// Lua script PROGRESS. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, EVENTS.

import { SEQ_WIDTH } from "../codec.ts";
import { EVENTS } from "./events.ts";
import { JKEY } from "./keys.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, id, token, progress JSON. Returns 1/0.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("PROGRESS", PROGRESS); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const PROGRESS: string = script(
  [JKEY, EVENTS],
  `
local k = jkey(ARGV[2])
local h = redis.call('HMGET', k, 'state', 'token')
if h[1] ~= 'active' or h[2] ~= ARGV[3] then return 0 end
redis.call('HSET', k, 'progress', ARGV[4])
-- The token is "<queue>:<seq>" (see reserve.ts).
emit(string.sub(ARGV[3], 1, -${SEQ_WIDTH + 2}), '["p",' .. jstr(ARGV[2]) .. ',' .. ARGV[4] .. ']')
flushEvents(ARGV[5])
return 1
`,
);
