/**
 * Lua: deleting finished jobs beyond a retention policy.
 *
 * @example
 * ```ts ignore
 * const lua = script([PRUNE_SET], body);
 * ```
 *
 * @module
 */

import { BATCH } from "./batch.ts";
import { FMT } from "./fmt.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MEMBER } from "./seq.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `pruneSet(q, state, count, age, now, budget, removed)`.
 *
 * @example
 * ```ts ignore
 * const lua = script([PRUNE_SET], body);
 * ```
 */
export const PRUNE_SET: Snippet = snippet(
  ["pruneSet", "dropOldest"],
  [QKEY, FMT, MEMBER, JKEY, BATCH],
  `
-- Deletes up to 'budget' finished jobs of one set beyond a retention policy:
-- first those finished before now - age, then the oldest beyond count.
-- Members are sorted by (finishedAt, seq), so the oldest come first by rank.
-- dropOldest deletes the jobs of 'members', the first of zk by rank, and
-- those members, adding their ids to 'removed'.
local function dropOldest(zk, members, removed)
  local keys = {}
  for n, m in ipairs(members) do
    local id = memberId(m)
    keys[n] = jkey(id)
    removed[#removed + 1] = id
  end
  callMany('DEL', false, keys, #keys)
  redis.call('ZREMRANGEBYRANK', zk, 0, #members - 1)
end
local function pruneSet(q, state, count, age, now, budget, removed)
  local zk = qkey(q, state)
  local done = 0
  if age >= 0 and budget > 0 then
    local old = redis.call('ZRANGEBYSCORE', zk, '-inf', '(' .. fmt(now - age), 'LIMIT', 0, budget)
    if #old > 0 then dropOldest(zk, old, removed) end
    done = #old
  end
  if count >= 0 and done < budget then
    local extra = redis.call('ZCARD', zk) - count
    if extra > budget - done then extra = budget - done end
    if extra > 0 then
      dropOldest(zk, redis.call('ZRANGE', zk, 0, extra - 1), removed)
      done = done + extra
    end
  end
  return done
end
`,
);
