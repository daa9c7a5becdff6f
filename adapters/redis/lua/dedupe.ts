/**
 * Lua: the dedupe keys of a queue (`NewJob.dedupe`). Per queue, the hash
 * `q:<queue>:dedupe` maps each key to the id of the job that holds it, and
 * the sorted set `q:<queue>:dedupe:held` lists the keys of finished jobs
 * that their ttl still holds, scored by the ttl's end. A job with a key has
 * the fields `dedupeKey` and, with a ttl, `dedupeUntil` (enqueuedAt + ttl).
 *
 * An entry is dropped when its job finishes (or, while its ttl holds, once
 * the ttl is over, by `sweepHeld`), or is deleted: so both are empty again
 * (and gone) when no job holds a key. A queue whose hash does not exist pays
 * one EXISTS per script call (`hasDedupe`), nothing per job.
 *
 * @example
 * ```ts ignore
 * const lua = script([DEDUPE], body);
 * ```
 *
 * @module
 */

import { QKEY } from "./keys.ts";
import { JKEY } from "./keys.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `hasDedupe(q)`, `releaseKey(q, id, dk, du, now, gone)`, `sweepHeld(q, now, budget)`.
 *
 * @example
 * ```ts ignore
 * const lua = script([DEDUPE], body);
 * ```
 */
export const DEDUPE: Snippet = snippet(
  ["hasDedupe", "releaseKey", "sweepHeld"],
  [QKEY, JKEY],
  `
local dedupeOf = {}
-- Whether queue q has dedupe keys at all (asked once per queue and call).
local function hasDedupe(q)
  local has = dedupeOf[q]
  if has == nil then
    has = redis.call('EXISTS', qkey(q, 'dedupe')) == 1
    dedupeOf[q] = has
  end
  return has
end
-- Job id (its key dk, its ttl's end du or false) finished, or is deleted
-- (gone): its key is free now, or once du is past.
local function releaseKey(q, id, dk, du, now, gone)
  if not dk then return end
  local dh = qkey(q, 'dedupe')
  if redis.call('HGET', dh, dk) ~= id then return end -- another job holds it
  local untilN = tonumber(du)
  if untilN and untilN > now and not gone then
    redis.call('ZADD', qkey(q, 'dedupe:held'), untilN, dk)
  else
    redis.call('HDEL', dh, dk)
  end
end
-- Frees up to budget keys of q whose ttl is over and whose job finished or is gone.
local function sweepHeld(q, now, budget)
  local zk = qkey(q, 'dedupe:held')
  local due = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, budget)
  if #due == 0 then return end
  local dh = qkey(q, 'dedupe')
  for _, dk in ipairs(due) do
    local id = redis.call('HGET', dh, dk)
    if id then
      local h = redis.call('HMGET', jkey(id), 'dedupeKey', 'state', 'dedupeUntil')
      if h[1] ~= dk or ((h[2] == 'completed' or h[2] == 'failed') and
        (tonumber(h[3]) or 0) <= now) then
        redis.call('HDEL', dh, dk)
      end
    end
  end
  redis.call('ZREM', zk, unpack(due))
end
`,
);
