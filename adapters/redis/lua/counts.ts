// Lua script COUNTS. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): QKEY.

import { QKEY } from "./keys.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, queue. Returns counts: waiting, delayed, active, completed, failed.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("COUNTS", COUNTS); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const COUNTS: string = script(
  [QKEY],
  `
local q = ARGV[2]
-- Waiting: the jobs without a group, plus those in the groups' lanes (flow.ts).
local grouped = tonumber(redis.call('HGET', qkey(q, 'flow'), 'gw')) or 0
return {
  redis.call('ZCARD', qkey(q, 'wait')) + grouped, redis.call('ZCARD', qkey(q, 'delayed')),
  redis.call('ZCARD', qkey(q, 'active')), redis.call('ZCARD', qkey(q, 'completed')),
  redis.call('ZCARD', qkey(q, 'failed')),
}
`,
);
