// Lua scripts SET_LIMITS, GET_LIMITS, SET_GROUP_LIMITS and GROUPS: a queue's stored limits and its
// groups (see flow.ts). KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): QKEY, MARKS, FLOW.

import { FLOW } from "./flow.ts";
import { QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, queue, now, "1" (set) or "" (clear), then concurrency, rate
 * max, rate per, group concurrency, group rate max, group rate per ("" for
 * none), "1" when the group limits are given (else ""). Replaces the queue's limits whole; lanes at their limit take their
 * turn again, and idle workers wake. Returns 1.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("SET_LIMITS", SET_LIMITS); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const SET_LIMITS: string = script(
  [QKEY, MARKS, FLOW],
  `
local q = ARGV[2]
flowStart(q)
local fk = qkey(q, 'flow')
redis.call('HDEL', fk, 'L', 'c', 'rm', 'rp', 'gc', 'grm', 'grp', 'G')
if ARGV[4] == '1' then
  local names = {'c', 'rm', 'rp', 'gc', 'grm', 'grp', 'G'}
  local set = {'L', '1'}
  for f = 1, 7 do
    if ARGV[4 + f] ~= '' then
      set[#set + 1] = names[f]
      set[#set + 1] = ARGV[4 + f]
    end
  end
  redis.call('HSET', fk, unpack(set))
end
limitsChanged(q)
sweepIdle(q, tonumber(ARGV[3]))
mark(q)
flushMarks()
return 1
`,
);

/**
 * ARGV: base, queue. Returns the flow hash's L, c, rm, rp, gc, grm, grp, G
 * (false for each absent one).
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("GET_LIMITS", GET_LIMITS); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const GET_LIMITS: string = script(
  [QKEY],
  `
return redis.call('HMGET', qkey(ARGV[2], 'flow'), 'L', 'c', 'rm', 'rp', 'gc', 'grm', 'grp', 'G')
`,
);

/**
 * ARGV: base, queue, group, now, "1" (set) or "" (remove), then
 * concurrency, rate max, rate per ("" for none). Replaces the group's
 * override; lanes at their limit take their turn again, and idle workers
 * wake. Returns 1.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("SET_GROUP_LIMITS", SET_GROUP_LIMITS); // run by EVALSHA
 * ```
 */
export const SET_GROUP_LIMITS: string = script(
  [QKEY, MARKS, FLOW],
  `
local q, g, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
flowStart(q)
local lk = gkey(q, 'g', g)
redis.call('HDEL', lk, 'o', 'oc', 'orm', 'orp')
if ARGV[5] == '1' then
  local names = {'oc', 'orm', 'orp'}
  local set = {'o', '1'}
  for f = 1, 3 do
    if ARGV[5 + f] ~= '' then
      set[#set + 1] = names[f]
      set[#set + 1] = ARGV[5 + f]
    end
  end
  redis.call('HSET', lk, unpack(set))
  redis.call('ZADD', qkey(q, 'groups'), 0, g)
else
  checkListed(q, g, now)
end
limitsChanged(q)
sweepIdle(q, now)
mark(q)
flushMarks()
return 1
`,
);

/**
 * ARGV: base, queue, offset, limit. Returns per listed group, by name:
 * name, waiting, active, hold, override flag, its concurrency, rate max,
 * rate per (false for each absent one).
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("GROUPS", GROUPS); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const GROUPS: string = script(
  [QKEY, MARKS, FLOW],
  `
local q, offset, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
if limit == 0 then return out end
for _, g in ipairs(redis.call('ZRANGE', qkey(q, 'groups'), offset, offset + limit - 1)) do
  local l = redis.call('HMGET', gkey(q, 'g', g), 'a', 'h', 'o', 'oc', 'orm', 'orp')
  out[#out + 1] = g
  out[#out + 1] = redis.call('ZCARD', gkey(q, 'gw', g))
  for f = 1, 6 do out[#out + 1] = l[f] end
end
return out
`,
);
