/**
 * Lua: filling in the settings of a job enqueued by task name.
 *
 * @example
 * ```ts ignore
 * const lua = script([WITH_DEFAULTS], body);
 * ```
 *
 * @module
 */

import { type Snippet, snippet } from "./snippet.ts";

/**
 * `withDefaults(k, d, defs)`: d with its task's settings, stored.
 *
 * @example
 * ```ts ignore
 * const lua = script([WITH_DEFAULTS], body);
 * ```
 */
export const WITH_DEFAULTS: Snippet = snippet(
  ["withDefaults"],
  [],
  `
-- Fills the empty settings of d (a job enqueued by name) from its task's in
-- defs (see RESERVE) and stores d, so every later step sees real values.
-- A task not in defs leaves d as it is.
local taskDefs = {}
local function withDefaults(k, d, defs)
  local p, ma, ms, to, rest = string.match(d, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  -- rest: enqueuedAt|runAt|queue|name|seq (the queue holds no "|").
  local name = rest and string.match(rest, '^[^|]*|[^|]*|[^|]*|(.*)|[^|]*$')
  if not name then return d end
  local t = taskDefs[name]
  if t == nil then
    t = false
    -- Only a valid task name can be in defs (and cannot match across entries).
    local at = string.find(name, '^[%w_.:/@-]+$') and
      string.find(defs, '\\n' .. name .. ' ', 1, true)
    if at then
      local a, s, o = string.match(defs, '^(%d+) (%d+) (%d+)', at + #name + 2)
      if a then t = {a, s, o} end
    end
    taskDefs[name] = t
  end
  if not t then return d end
  if ma == '' then ma = t[1] end
  if ms == '' then ms = t[2] end
  if to == '' then to = t[3] end
  d = p .. '|' .. ma .. '|' .. ms .. '|' .. to .. '|' .. rest
  redis.call('HSET', k, 'd', d)
  return d
end
`,
);
