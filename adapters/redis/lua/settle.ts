// Lua script SETTLE. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, QKEY, SEQ,
// PADDED, MEMBER, D_PARTS, BATCH, MARKS, APPEND_ERROR, TO_WAITING, TO_DELAYED, TO_FINISHED,
// PRUNE_SET, EVENTS, DEDUPE.

import { SEQ_WIDTH } from "../codec.ts";
import { BATCH } from "./batch.ts";
import { DEDUPE } from "./dedupe.ts";
import { EVENTS } from "./events.ts";
import { FLOW } from "./flow.ts";
import { APPEND_ERROR, D_PARTS } from "./fields.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { PRUNE_SET } from "./retention.ts";
import { MEMBER, PADDED, SEQ } from "./seq.ts";
import { script } from "./snippet.ts";
import { TO_DELAYED, TO_FINISHED, TO_WAITING } from "./states.ts";

/**
 * ARGV: base, pruned-ids flag ("1": return them, "": return how many), now,
 * then retention (completed count, completed age, failed count, failed age:
 * "" for none), prune budget, the number of settlements, then per settlement
 * its kind, id, token and what the kind needs: c (complete, no result), C
 * result JSON (complete), f error JSON (fail), r error JSON, runAt (retry),
 * l runAt or "" (release), L runAt or "", holdUntil (release with a hold). Returns {applied flags, pruned ids or their count, 1 when a settle freed
 * a place under a limit (else 0)}.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("SETTLE", SETTLE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const SETTLE: string = script(
  [
    JKEY,
    QKEY,
    SEQ,
    PADDED,
    MEMBER,
    D_PARTS,
    BATCH,
    MARKS,
    APPEND_ERROR,
    TO_WAITING,
    TO_DELAYED,
    TO_FINISHED,
    PRUNE_SET,
    EVENTS,
    DEDUPE,
    FLOW,
  ],
  `
local now = ARGV[3]
local nowN = tonumber(now)
local results, touched, removed = {}, {}, {}
-- A retention that keeps no completed job (as a "remove on complete"
-- option would): completed jobs are deleted at once, in one DEL at the end.
local dropCompleted = ARGV[4] == '0'
local dropped = {}
local woke = 0 -- whether a settle freed a place under a limit (flow.ts)
allocSeq(tonumber(ARGV[9]))
local i, last = 10, #ARGV
while i <= last do
  local kind, id, token, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], '', ''
  if kind == 'c' then
    i = i + 3
  elseif kind == 'C' then
    kind, a = 'c', ARGV[i + 3]
    i = i + 4
  elseif kind == 'f' then
    a = ARGV[i + 3]
    i = i + 4
  elseif kind == 'l' then
    b = ARGV[i + 3]
    i = i + 4
  elseif kind == 'L' then
    kind, b, a = 'l', ARGV[i + 3], ARGV[i + 4]
    i = i + 5
  else
    a, b = ARGV[i + 3], ARGV[i + 4]
    i = i + 5
  end
  local k = jkey(id)
  -- The lease is held exactly while its member is in 'active' (see member):
  -- removing it is the token check.
  local q = string.sub(token, 1, -${SEQ_WIDTH + 2})
  if string.sub(token, -${SEQ_WIDTH + 1}, -${SEQ_WIDTH + 1}) ~= ':'
    or redis.call('ZREM', qkey(q, 'active'), string.sub(token, -${SEQ_WIDTH}) .. id) == 0 then
    results[#results + 1] = 0
  else
    if flowOn(q) then
      -- Its place under a limit frees; a release with holdUntil (kind 'L')
      -- holds its group, or its queue when it has none (never shortened).
      local g = redis.call('HGET', k, 'g')
      if kind == 'l' and a ~= '' then
        local hk = g and gkey(q, 'g', g) or qkey(q, 'flow')
        if (tonumber(redis.call('HGET', hk, 'h')) or 0) < tonumber(a) then
          redis.call('HSET', hk, 'h', a)
        end
      end
      if leftActive(q, g, nowN) then woke = 1 end
    elseif kind == 'l' and a ~= '' then
      flowStart(q)
      redis.call('HSET', qkey(q, 'flow'), 'h', a)
    end
    if kind == 'c' and hasDedupe(q) then
      -- Only in a queue with dedupe keys: the job's key is released.
      local dd = redis.call('HMGET', k, 'dedupeKey', 'dedupeUntil')
      releaseKey(q, id, dd[1], dd[2], nowN, dropCompleted)
    end
    if kind == 'c' and dropCompleted then
      dropped[#dropped + 1] = k
      removed[#removed + 1] = id
      touched[q] = true -- completed jobs stored before are pruned as usual
      if a == '' then emitGrouped(q, 'C', id, nil, '')
      else emit(q, '["c",' .. jstr(id) .. ',' .. a .. ']') end
    elseif kind == 'c' then
      -- The hot path: one write. The last lease's owner, token and expiry
      -- stay in the hash (they only count while the state is 'active', and
      -- a token is never issued twice), and an active job has no result.
      local seq = nextPadded()
      defer('ZADD', qkey(q, 'completed'), now, seq .. id)
      if a == '' then
        redis.call('HSET', k, 'state', 'completed', 'seq', seq, 'finishedAt', now)
      else
        redis.call('HSET', k, 'state', 'completed', 'seq', seq, 'finishedAt', now, 'result', a)
      end
      touched[q] = true
      if a == '' then emitGrouped(q, 'C', id, nil, '')
      else emit(q, '["c",' .. jstr(id) .. ',' .. a .. ']') end
    else
      redis.call('HDEL', k, 'owner', 'token', 'expiresAt')
      local more = redis.call('HMGET', k, 'd', 'errors', 'attempt', 'dedupeKey', 'dedupeUntil')
      local priority = prioOf(more[1])
      if kind == 'f' or kind == 'r' then
        redis.call('HSET', k, 'error', a, 'errors', appendError(more[2], a))
        if kind == 'f' then
          toFinished(k, id, q, 'failed', now)
          releaseKey(q, id, more[4], more[5], nowN, false)
          touched[q] = true
          emit(q, '["f",' .. jstr(id) .. ',' .. a .. ']')
        else
          if tonumber(b) <= nowN then
            redis.call('HSET', k, 'runAt', b)
            toWaiting(k, id, q, priority)
          else
            toDelayed(k, id, q, b)
          end
          emit(q, '["r",' .. jstr(id) .. ',' .. a .. ',' .. b .. ']')
        end
      else
        -- release: the attempt did not count
        local attempt = (tonumber(more[3]) or 1) - 1
        if attempt < 0 then attempt = 0 end
        redis.call('HSET', k, 'attempt', attempt)
        if b ~= '' and tonumber(b) > nowN then
          toDelayed(k, id, q, b)
        else
          if b ~= '' then redis.call('HSET', k, 'runAt', b) end
          toWaiting(k, id, q, priority)
        end
        emit(q, '["w",' .. jstr(id) .. ',0]')
      end
    end
    results[#results + 1] = 1
  end
end
flushDeferred()
if #dropped > 0 then callMany('DEL', false, dropped, #dropped) end
if ARGV[4] ~= '' then
  local budget = tonumber(ARGV[8])
  for q in pairs(touched) do
    pruneSet(q, 'completed', tonumber(ARGV[4]), tonumber(ARGV[5]), nowN, budget, removed)
    pruneSet(q, 'failed', tonumber(ARGV[6]), tonumber(ARGV[7]), nowN, budget, removed)
    if hasDedupe(q) then sweepHeld(q, nowN, budget) end
  end
end
flushMarks()
flushEvents(now)
if ARGV[2] == '1' then return {results, removed, woke} end
return {results, #removed, woke}
`,
);
