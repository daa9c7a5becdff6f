// Lua script RESUME. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): MARKS, EVENTS.

import { EVENTS } from "./events.ts";
import { MARKS } from "./marks.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, paused key, queue. Resumes a queue and wakes its workers.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("RESUME", RESUME); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const RESUME: string = script(
  [MARKS, EVENTS],
  `
if redis.call('SREM', ARGV[2], ARGV[3]) == 1 then emit(ARGV[3], '["R"]') end
mark(ARGV[3])
flushMarks()
flushEvents(ARGV[4])
return 1
`,
);
