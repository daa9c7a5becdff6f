/**
 * Lua number formatting that keeps every digit.
 *
 * @example
 * ```ts ignore
 * const lua = script([FMT], body);
 * ```
 *
 * @module
 */

import { type Snippet, snippet } from "./snippet.ts";

/**
 * `fmt(n)`: n as an integer string (tostring() keeps only 14 digits).
 *
 * @example
 * ```ts ignore
 * const lua = script([FMT], body);
 * ```
 */
export const FMT: Snippet = snippet(
  ["fmt"],
  [],
  `
local function fmt(n) return string.format('%.0f', n) end
`,
);
