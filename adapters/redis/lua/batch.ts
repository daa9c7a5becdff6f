/**
 * Lua: batched writes over many members of one key.
 *
 * @example
 * ```ts ignore
 * const lua = script([BATCH], body);
 * ```
 *
 * @module
 */

import { type Snippet, snippet } from "./snippet.ts";

/**
 * `defer(cmd, key, a, b)`, `callMany(cmd, key, args, n)`, `flushDeferred()`.
 *
 * @example
 * ```ts ignore
 * const lua = script([BATCH], body);
 * ```
 */
export const BATCH: Snippet = snippet(
  ["defer", "callMany", "flushDeferred"],
  [],
  `
-- Batched writes: a command over many members (ZADD, ZREM, DEL) costs about
-- what one member costs, so hot loops defer such writes per key and flush
-- them once, in as few calls as Lua's unpack limit allows. A script flushes
-- before it reads a key it deferred writes to.
local deferred, deferredOrder = {}, {}
local function defer(cmd, key, a, b)
  local byKey = deferred[cmd]
  if byKey == nil then
    byKey = {}
    deferred[cmd] = byKey
  end
  local d = byKey[key]
  if d == nil then
    d = {cmd = cmd, key = key, args = {}, n = 0}
    byKey[key] = d
    deferredOrder[#deferredOrder + 1] = d
  end
  local n = d.n + 1
  d.args[n] = a
  if b ~= nil then
    n = n + 1
    d.args[n] = b
  end
  d.n = n
end
local function callMany(cmd, key, args, n)
  local i = 1
  while i <= n do
    local j = i + 3999
    if j > n then j = n end
    if key then redis.call(cmd, key, unpack(args, i, j)) else redis.call(cmd, unpack(args, i, j)) end
    i = j + 1
  end
end
local function flushDeferred()
  for _, d in ipairs(deferredOrder) do callMany(d.cmd, d.key, d.args, d.n) end
  deferred, deferredOrder = {}, {}
end
`,
);
