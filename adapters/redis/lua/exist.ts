// Lua script EXIST. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY.

import { JKEY } from "./keys.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, then job ids. Returns 1 or 0 per id: whether its job hash exists.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("EXIST", EXIST); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const EXIST: string = script(
  [JKEY],
  `
local out = {}
for i = 2, #ARGV do out[i - 1] = redis.call('EXISTS', jkey(ARGV[i])) end
return out
`,
);
