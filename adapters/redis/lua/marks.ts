/**
 * Lua: the wake-up markers idle workers BLPOP (see `../wait_for_work.ts`).
 *
 * @example
 * ```ts ignore
 * const lua = script([MARKS], body);
 * ```
 *
 * @module
 */

import { QKEY } from "./keys.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `mark(q, n)`, `flushMarks()`: wake up to 16 workers of queue q.
 *
 * @example
 * ```ts ignore
 * const lua = script([MARKS], body);
 * ```
 */
export const MARKS: Snippet = snippet(
  ["mark", "flushMarks"],
  [QKEY],
  `
-- Wake-up markers: a short list per queue that idle workers BLPOP. One push
-- per job made ready (capped), trimmed in the same script so it stays bounded.
local MARK_MAX = 16
local marks = {}
local function mark(q, n) marks[q] = (marks[q] or 0) + (n or 1) end
local function flushMarks()
  for q, n in pairs(marks) do
    if n > MARK_MAX then n = MARK_MAX end
    local vals = {}
    for i = 1, n do vals[i] = '1' end
    local k = qkey(q, 'mark')
    redis.call('LPUSH', k, unpack(vals))
    redis.call('LTRIM', k, 0, MARK_MAX - 1)
  end
end
`,
);
