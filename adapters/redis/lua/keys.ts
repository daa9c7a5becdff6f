/**
 * Lua key names: a job's hash, and a queue's sets and lists, all under the script's key base.
 *
 * @example
 * ```ts ignore
 * const lua = script([JKEY], body);
 * ```
 *
 * @module
 */

import { type Snippet, snippet } from "./snippet.ts";

/**
 * `jkey(id)`: the key of a job's hash.
 *
 * @example
 * ```ts ignore
 * const lua = script([JKEY], body);
 * ```
 */
export const JKEY: Snippet = snippet(
  ["jkey"],
  [],
  `
local function jkey(id) return base .. 'job:' .. id end
`,
);

/**
 * `qkey(queue, kind)`: the key of a queue's `wait`, `delayed`, `active`, `completed`, `failed` set or `mark` list.
 *
 * @example
 * ```ts ignore
 * const lua = script([QKEY], body);
 * ```
 */
export const QKEY: Snippet = snippet(
  ["qkey"],
  [],
  `
-- Key names are built once per script call (hot loops ask for the same few).
local qkeys = {}
local function qkey(q, kind)
  local t = qkeys[q]
  if t == nil then
    t = {}
    qkeys[q] = t
  end
  local k = t[kind]
  if k == nil then
    k = base .. 'q:' .. q .. ':' .. kind
    t[kind] = k
  end
  return k
end
`,
);
