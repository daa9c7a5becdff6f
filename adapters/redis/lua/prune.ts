// Lua script PRUNE. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): PRUNE_SET, DEDUPE.

import { DEDUPE } from "./dedupe.ts";
import { PRUNE_SET } from "./retention.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, queue, now, completed count, completed age, failed count,
 * failed age, budget. Returns the removed ids (at most 2 * budget).
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("PRUNE", PRUNE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const PRUNE: string = script(
  [PRUNE_SET, DEDUPE],
  `
local removed = {}
local q, now, budget = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[8])
pruneSet(q, 'completed', tonumber(ARGV[4]), tonumber(ARGV[5]), now, budget, removed)
pruneSet(q, 'failed', tonumber(ARGV[6]), tonumber(ARGV[7]), now, budget, removed)
if hasDedupe(q) then sweepHeld(q, now, budget) end
return removed
`,
);
