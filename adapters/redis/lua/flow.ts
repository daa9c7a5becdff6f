/**
 * Lua: flow control (see `core/storage_limits.ts`): a queue's stored limits,
 * its sliding-log rate, its hold, and its groups' lanes taking turns.
 *
 * The keys of a queue Q that has limits, a hold or a grouped job (others
 * have none of them, and their scripts pay one EXISTS per call):
 * - `q:Q:flow` hash: `L` (limits set), `c` concurrency, `rm`/`rp` rate
 *   max/per, `gc`/`grm`/`grp` every group's limits, `h` the queue's hold,
 *   `rs` starts counted in `q:Q:rate`, `gw` grouped waiting jobs, `tc` the
 *   turn counter, `ut` the ungrouped lane's last turn.
 * - `q:Q:rate` list: the queue's counted starts, oldest first, "time|count".
 * - `q:Q:lanes` zset: the lanes waiting for their turn, by turn.
 * - `q:Q:gfull` set, `q:Q:gtimed` zset (by when they free): lanes at their
 *   limit, out of the turns until a job leaves `active` or until a time.
 * - `q:Q:groups` zset (all scores 0, so by name): the groups `groups()` lists.
 * - `q:Q:gidle` zset: unlisted groups whose hold or rate log still counts,
 *   by when they stop counting (their keys are deleted then).
 * - Per group G: `q:Q:gw:G` zset, its waiting jobs as `wait` orders them;
 *   `q:Q:g:G` hash: `a` active, `h` hold, `p` place ("r" ready, "f" full,
 *   "t" timed, absent: idle), `o`/`oc`/`orm`/`orp` its override, `rs`;
 *   `q:Q:gr:G` list, its counted starts.
 *
 * @example
 * ```ts ignore
 * const lua = script([FLOW], body);
 * ```
 *
 * @module
 */

import { MARKS } from "./marks.ts";
import { QKEY } from "./keys.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `flowOn(q)`, `gkey(q, kind, g)`, `pushGrouped(q, g, n)`, `leftActive(q, g, now)`,
 * `checkListed(q, g, now)`, `laneLimits(l, f)`, `rateFree`, `rateFreesAt`, `rateAdd`,
 * `makeReady`, `limitsChanged(q)`, `sweepIdle(q, now)`, `dropGrouped(q, g, m, now)`.
 *
 * @example
 * ```ts ignore
 * const lua = script([FLOW], body);
 * ```
 */
export const FLOW: Snippet = snippet(
  [
    "flowOn",
    "flowStart",
    "gkey",
    "makeReady",
    "pushGrouped",
    "leftActive",
    "checkListed",
    "laneLimits",
    "rateFree",
    "rateFreesAt",
    "rateAdd",
    "limitsChanged",
    "sweepIdle",
    "dropGrouped",
  ],
  [QKEY, MARKS],
  `
-- Whether queue q has flow control (its 'flow' hash), asked once per call.
local flows = {}
local function flowOn(q)
  local on = flows[q]
  if on == nil then
    on = redis.call('EXISTS', qkey(q, 'flow')) == 1
    flows[q] = on
  end
  return on
end
local function flowStart(q)
  if not flowOn(q) then
    redis.call('HSETNX', qkey(q, 'flow'), 'tc', 0)
    flows[q] = true
  end
end
local function gkey(q, kind, g) return qkey(q, kind) .. ':' .. g end
-- Lane g joins the back of the turns.
local function makeReady(q, g)
  local turn = redis.call('HINCRBY', qkey(q, 'flow'), 'tc', 1)
  redis.call('ZADD', qkey(q, 'lanes'), turn, g)
  redis.call('HSET', gkey(q, 'g', g), 'p', 'r')
end
-- n jobs of group g were added to its waiting set: they count, and an idle
-- lane joins the turns.
local function pushGrouped(q, g, n)
  flowStart(q)
  redis.call('HINCRBY', qkey(q, 'flow'), 'gw', n)
  if not redis.call('HGET', gkey(q, 'g', g), 'p') then makeReady(q, g) end
  redis.call('ZADD', qkey(q, 'groups'), 0, g)
end
-- A sliding log (list lk, its count in field 'rs' of hash hk): how many
-- more starts max allows at now in the window (now - per, now].
local function rateFree(lk, hk, now, max, per)
  local sum = tonumber(redis.call('HGET', hk, 'rs')) or 0
  if sum <= 0 then return max end
  local oldest, dropped = now - per, 0
  while true do
    local e = redis.call('LINDEX', lk, 0)
    if not e then break end
    local cut = string.find(e, '|', 1, true)
    if tonumber(string.sub(e, 1, cut - 1)) > oldest then break end
    redis.call('LPOP', lk)
    dropped = dropped + tonumber(string.sub(e, cut + 1))
  end
  if dropped > 0 then sum = redis.call('HINCRBY', hk, 'rs', -dropped) end
  return max - sum
end
-- When the oldest counted start leaves the window (after rateFree at the same time).
local function rateFreesAt(lk, per)
  local e = redis.call('LINDEX', lk, 0)
  return tonumber(string.sub(e, 1, string.find(e, '|', 1, true) - 1)) + per
end
local function rateAdd(lk, hk, now, n)
  redis.call('RPUSH', lk, now .. '|' .. n)
  redis.call('HINCRBY', hk, 'rs', n)
end
-- The limits of lane hash lk (fields a, h, o, oc, orm, orp read as l):
-- its override, else the queue's group limits (f: the flow hash's gc, grm, grp).
local function laneLimits(l, f)
  if l[3] then return tonumber(l[4]), tonumber(l[5]), tonumber(l[6]) end
  return tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
end
-- Group g is listed while it has waiting or active jobs or an override;
-- once not, its keys go when its hold and rate log no longer count.
local function checkListed(q, g, now)
  local lk = gkey(q, 'g', g)
  local l = redis.call('HMGET', lk, 'a', 'h', 'o', 'p', 'rs')
  if (tonumber(l[1]) or 0) > 0 or l[3] or l[4] == 'r' or
    redis.call('EXISTS', gkey(q, 'gw', g)) == 1 then return end
  redis.call('ZREM', qkey(q, 'groups'), g)
  local stopsAt = tonumber(l[2]) or 0
  if (tonumber(l[5]) or 0) > 0 then
    -- Without an override (it would be listed), the queue's group rate counts its log.
    local last = redis.call('LINDEX', gkey(q, 'gr', g), -1)
    local per = tonumber(redis.call('HGET', qkey(q, 'flow'), 'grp'))
    if last and per then
      local at = tonumber(string.sub(last, 1, string.find(last, '|', 1, true) - 1)) + per
      if at > stopsAt then stopsAt = at end
    end
  end
  if stopsAt <= now and l[4] ~= 'f' and l[4] ~= 't' then
    redis.call('DEL', lk, gkey(q, 'gr', g))
    redis.call('ZREM', qkey(q, 'gidle'), g)
  else
    redis.call('ZADD', qkey(q, 'gidle'), stopsAt, g)
  end
end
-- Deletes the keys of unlisted groups whose hold and rate log stopped counting (bounded).
local function sweepIdle(q, now)
  local ik = qkey(q, 'gidle')
  local due = redis.call('ZRANGEBYSCORE', ik, '-inf', now, 'LIMIT', 0, 16)
  for _, g in ipairs(due) do
    redis.call('ZREM', ik, g)
    if not redis.call('ZSCORE', qkey(q, 'groups'), g) then
      local p = redis.call('HGET', gkey(q, 'g', g), 'p')
      if p ~= 'f' and p ~= 't' and p ~= 'r' then redis.call('DEL', gkey(q, 'g', g), gkey(q, 'gr', g)) end
    end
  end
end
-- A job of queue q (group g, or false) left 'active': its lane's count, a
-- lane that was full rejoins the turns, and workers waiting for a place wake
-- (returns whether it woke them).
local function leftActive(q, g, now)
  local fk = qkey(q, 'flow')
  local wake = redis.call('HEXISTS', fk, 'c') == 1
  if g then
    local lk = gkey(q, 'g', g)
    local a = redis.call('HINCRBY', lk, 'a', -1)
    local l = redis.call('HMGET', lk, 'p', 'o', 'oc')
    if l[1] == 'f' then
      redis.call('SREM', qkey(q, 'gfull'), g)
      redis.call('HDEL', lk, 'p')
      if redis.call('EXISTS', gkey(q, 'gw', g)) == 1 then makeReady(q, g) end
      wake = true
    elseif (l[2] and l[3]) or (not l[2] and redis.call('HEXISTS', fk, 'gc') == 1) then
      wake = true
    end
    if a <= 0 then checkListed(q, g, now) end
  end
  if wake then mark(q) end
  return wake
end
-- A waiting job (member m) of group g was taken out of its lane other than by a reserve.
local function dropGrouped(q, g, m, now)
  if redis.call('ZREM', gkey(q, 'gw', g), m) == 0 then return false end
  redis.call('HINCRBY', qkey(q, 'flow'), 'gw', -1)
  checkListed(q, g, now)
  return true
end
-- Limits changed: every lane at its limit takes its turn again (and is checked then).
local function limitsChanged(q)
  local blocked = redis.call('SMEMBERS', qkey(q, 'gfull'))
  for _, g in ipairs(redis.call('ZRANGE', qkey(q, 'gtimed'), 0, -1)) do blocked[#blocked + 1] = g end
  table.sort(blocked)
  redis.call('DEL', qkey(q, 'gfull'), qkey(q, 'gtimed'))
  for _, g in ipairs(blocked) do
    redis.call('HDEL', gkey(q, 'g', g), 'p')
    if redis.call('EXISTS', gkey(q, 'gw', g)) == 1 then makeReady(q, g) end
  end
end
`,
);
