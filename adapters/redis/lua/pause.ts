// Lua script PAUSE. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): EVENTS.

import { EVENTS } from "./events.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, paused key, queue, now. Adds the queue to the paused set, with
 * a `paused` event when it was not paused. Returns 1.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("PAUSE", PAUSE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const PAUSE: string = script(
  [EVENTS],
  `
if redis.call('SADD', ARGV[2], ARGV[3]) == 1 then emit(ARGV[3], '["P"]') end
flushEvents(ARGV[4])
return 1
`,
);
