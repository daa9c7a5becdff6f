// Lua script RESERVE. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1]
// being the key base "{tag}:". Includes (and what they need, see snippet.ts): JKEY, QKEY, SEQ,
// FMT, PADDED, MEMBER, WAIT_SCORE, D_PARTS, WITH_DEFAULTS, BATCH, MARKS, APPEND_ERROR, TO_WAITING,
// TO_FINISHED, NOT_HASH, EVENTS, DEDUPE.

import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS } from "../../../core/task.ts";
import { RESERVE_FIELDS, RESERVE_FIRST } from "../codec.ts";
import { BATCH } from "./batch.ts";
import { DEDUPE } from "./dedupe.ts";
import { EVENTS } from "./events.ts";
import { APPEND_ERROR, D_PARTS } from "./fields.ts";
import { FLOW } from "./flow.ts";
import { FMT } from "./fmt.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { MEMBER, PADDED, SEQ } from "./seq.ts";
import { script } from "./snippet.ts";
import { NOT_HASH, TO_FINISHED, TO_WAITING, WAIT_SCORE } from "./states.ts";
import { WITH_DEFAULTS } from "./task_defaults.ts";

const RESERVE_ATTEMPT = RESERVE_FIELDS.indexOf("attempt") + 1;

/**
 * ARGV: base, now, limit, owner, expiresAt, reclaimMax, promoteMax, paused
 * key, then the queues in order, then the task defaults ("\nname
 * maxAttempts maxStalls timeout" per task, or ""). Returns an array: nextAt (or false),
 * then per reserved job: id, queue, lease token, and the array of its
 * RESERVE_FIELDS values (attempt already incremented; only the first
 * RESERVE_FIRST for a job never reserved before).
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("RESERVE", RESERVE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const RESERVE: string = script(
  [
    JKEY,
    QKEY,
    SEQ,
    FMT,
    PADDED,
    MEMBER,
    WAIT_SCORE,
    D_PARTS,
    WITH_DEFAULTS,
    BATCH,
    MARKS,
    APPEND_ERROR,
    TO_WAITING,
    TO_FINISHED,
    NOT_HASH,
    EVENTS,
    DEDUPE,
    FLOW,
  ],
  `
local RFIRST = {${RESERVE_FIELDS.slice(0, RESERVE_FIRST).map((f) => `'${f}'`).join(", ")}}
local RREST = {${RESERVE_FIELDS.slice(RESERVE_FIRST).map((f) => `'${f}'`).join(", ")}}
local now = ARGV[2]
local nowN = tonumber(now)
local limit = tonumber(ARGV[3])
local owner, expiresAt = ARGV[4], ARGV[5]
local expiresN = tonumber(expiresAt)
local reclaimMax, promoteMax = tonumber(ARGV[6]), tonumber(ARGV[7])
local pausedKey = ARGV[8]
local nq = tonumber(ARGV[9])
local defs = ARGV[10 + nq] or ''
local ownerJ = jstr(owner)
local out, no = {false}, 1
local got = 0
local nextAt = nil
local function consider(t)
  if t ~= nil and (nextAt == nil or t < nextAt) then nextAt = t end
end
-- The lowest score of a sorted set (nil when empty).
local function firstScore(zk) return tonumber(redis.call('ZRANGE', zk, 0, 0, 'WITHSCORES')[2]) end
-- Removes and returns the members of zk due by now (at most max), with a
-- sequence number allocated for each.
local function popDue(zk, max)
  local due = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, max)
  if #due > 0 then redis.call('ZREMRANGEBYRANK', zk, 0, #due - 1) end
  allocSeq(#due)
  return due
end
-- Leases the popped member m of queue q (a sequence number allocated for
-- it); false when its key is not a hash (notHash() then moved it to failed).
local function take(q, m, activeKey)
  local id = memberId(m)
  local k = jkey(id)
  -- A key that is not a hash fails HMGET: notHash() then moves it to
  -- failed (pcall: the popped jobs before it must not vanish).
  local h = redis.pcall('HMGET', k, unpack(RFIRST))
  if h.err then
    notHash(k, id, q, now)
    return false
  end
  local prior = h[${RESERVE_ATTEMPT}]
  if prior then
    local rest = redis.call('HMGET', k, unpack(RREST))
    for f = 1, #RREST do h[${RESERVE_FIRST} + f] = rest[f] end
  end
  -- Enqueued by name: a setting left to the task is empty in d ("||").
  if defs ~= '' and string.find(h[1] or '', '||', 1, true) then
    h[1] = withDefaults(k, h[1], defs)
  end
  local attempt = prior and fmt((tonumber(prior) or 0) + 1) or '1'
  -- The token is unique for ever: the queue plus a counter of the slot
  -- (zero padded, as in the member of 'active').
  local seq = nextPadded()
  local token = q .. ':' .. seq
  redis.call('HSET', k, 'state', 'active', 'attempt', attempt, 'startedAt', now,
    'owner', owner, 'token', token, 'expiresAt', expiresAt)
  defer('ZADD', activeKey, expiresAt, seq .. id)
  h[${RESERVE_ATTEMPT}] = attempt
  emitGrouped(q, 'A', id, attempt, ownerJ)
  out[no + 1] = id
  out[no + 2] = q
  out[no + 3] = token
  out[no + 4] = h
  no = no + 4
  got = got + 1
  return true
end
-- Flow control (see flow.ts): up to want jobs of q, as its limits and its
-- lanes' turns allow. Returns how many it took.
local function takeFlow(q, waitKey, activeKey, want)
  local fk = qkey(q, 'flow')
  local f = redis.call('HMGET', fk, 'c', 'rm', 'rp', 'gc', 'grm', 'grp', 'h', 'ut')
  local hold = tonumber(f[7])
  if hold and hold > nowN then return 0 end
  local allowed = want
  local c, rm, rp = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  if c then
    local free = c - redis.call('ZCARD', activeKey)
    if free < allowed then allowed = free end
  end
  if rm then
    local free = rateFree(qkey(q, 'rate'), fk, nowN, rm, rp)
    if free < allowed then allowed = free end
  end
  if allowed <= 0 then return 0 end
  -- Lanes blocked until a time that came rejoin the turns, earliest first.
  local tk = qkey(q, 'gtimed')
  local due = redis.call('ZRANGEBYSCORE', tk, '-inf', now)
  if #due > 0 then
    redis.call('ZREMRANGEBYSCORE', tk, '-inf', now)
    for _, g in ipairs(due) do
      redis.call('HDEL', gkey(q, 'g', g), 'p')
      if redis.call('EXISTS', gkey(q, 'gw', g)) == 1 then makeReady(q, g) end
    end
  end
  allocSeq(allowed)
  local lanesKey = qkey(q, 'lanes')
  local groupLimits = {f[4], f[5], f[6]}
  local ut = tonumber(f[8]) or 0
  local ungrouped = redis.call('ZCARD', waitKey)
  local taken = 0
  while taken < allowed do
    local top = redis.call('ZRANGE', lanesKey, 0, 0, 'WITHSCORES')
    local g = top[1]
    if ungrouped > 0 and (g == nil or ut < tonumber(top[2])) then
      -- The ungrouped lane's turn; with no lane waiting, it takes all it may at once.
      local popped = redis.call('ZPOPMIN', waitKey, g == nil and allowed - taken or 1)
      for j = 1, #popped, 2 do
        if take(q, popped[j], activeKey) then taken = taken + 1 end
      end
      ungrouped = ungrouped - #popped / 2
      ut = redis.call('HINCRBY', fk, 'tc', #popped / 2)
    elseif g == nil then
      break
    else
      redis.call('ZREM', lanesKey, g)
      local lk, lw, lr = gkey(q, 'g', g), gkey(q, 'gw', g), gkey(q, 'gr', g)
      local l = redis.call('HMGET', lk, 'a', 'h', 'o', 'oc', 'orm', 'orp')
      local lc, lrm, lrp = laneLimits(l, groupLimits)
      local lh = tonumber(l[2])
      local blockedUntil = nil
      if lh and lh > nowN then
        blockedUntil = lh
      elseif lc and (tonumber(l[1]) or 0) >= lc then
        blockedUntil = true
      elseif lrm and rateFree(lr, lk, nowN, lrm, lrp) <= 0 then
        blockedUntil = rateFreesAt(lr, lrp)
      end
      if blockedUntil == true then
        redis.call('HSET', lk, 'p', 'f')
        redis.call('SADD', qkey(q, 'gfull'), g)
      elseif blockedUntil then
        redis.call('HSET', lk, 'p', 't')
        redis.call('ZADD', tk, blockedUntil, g)
      else
        local popped = redis.call('ZPOPMIN', lw, 1)
        if #popped > 0 then
          redis.call('HINCRBY', fk, 'gw', -1)
          if take(q, popped[1], activeKey) then
            taken = taken + 1
            redis.call('HINCRBY', lk, 'a', 1)
            if lrm then rateAdd(lr, lk, now, 1) end
          end
        end
        if redis.call('EXISTS', lw) == 1 then makeReady(q, g) else redis.call('HDEL', lk, 'p') end
      end
    end
  end
  flushDeferred()
  redis.call('HSET', fk, 'ut', ut)
  if rm and taken > 0 then rateAdd(qkey(q, 'rate'), fk, now, taken) end
  return taken
end
for i = 10, 9 + nq do
  local q = ARGV[i]
  local activeKey, waitKey, delayedKey = qkey(q, 'active'), qkey(q, 'wait'), qkey(q, 'delayed')

  -- 1. Reclaim expired leases (bounded): the worker died or hung. A reclaim
  -- counts as a stall; too many stalls or no attempts left fail the job.
  -- The earliest expiry is looked at first: nothing to do is the usual case.
  local firstActive = firstScore(activeKey)
  if firstActive ~= nil and firstActive <= nowN then
    for _, m in ipairs(popDue(activeKey, reclaimMax)) do
      local id = memberId(m)
      local k = jkey(id)
      if not notHash(k, id, q, now) then
        local h = redis.call('HMGET', k, 'attempt', 'd', 'stalls', 'errors', 'dedupeKey', 'dedupeUntil', 'g')
        if flowOn(q) then leftActive(q, h[7], nowN) end
        local priority, maxAttempts, maxStalls = unpackD(h[2])
        local attempt = tonumber(h[1]) or 0
        local stalls = (tonumber(h[3]) or 0) + 1
        redis.call('HSET', k, 'stalls', stalls)
        redis.call('HDEL', k, 'owner', 'token', 'expiresAt')
        -- Unset (no worker that knew the task reserved it): the built-in defaults.
        if stalls > (maxStalls or ${DEFAULT_MAX_STALLS}) or
          attempt >= (maxAttempts or ${DEFAULT_MAX_ATTEMPTS}) then
          -- Only a stall that ends the job is recorded as its error: a reclaimed
          -- job that runs again has no error of its own to show yet.
          local err = '{"message":"Job stalled: its lease expired ' .. stalls ..
            ' time(s) before an attempt finished","name":"StalledError","attempt":' ..
            fmt(attempt) .. ',"at":' .. now .. '}'
          redis.call('HSET', k, 'error', err, 'errors', appendError(h[4], err))
          toFinished(k, id, q, 'failed', now)
          releaseKey(q, id, h[5], h[6], nowN, false)
          emit(q, '["s",' .. jstr(id) .. ',1]')
          emit(q, '["f",' .. jstr(id) .. ',' .. err .. ']')
        else
          toWaiting(k, id, q, priority)
          emit(q, '["s",' .. jstr(id) .. ',0]')
        end
      end
    end
    firstActive = firstScore(activeKey)
  end

  -- 2. Promote due delayed jobs (bounded), in (runAt, seq) order: they join
  -- the waiting order in the order they became due.
  local firstDelayed = firstScore(delayedKey)
  if firstDelayed ~= nil and firstDelayed <= nowN then
    for _, m in ipairs(popDue(delayedKey, promoteMax)) do
      local id = memberId(m)
      local k = jkey(id)
      if not notHash(k, id, q, now) then
        local seq = nextPadded()
        local g = flowOn(q) and redis.call('HGET', k, 'g')
        if g then
          redis.call('ZADD', gkey(q, 'gw', g), waitScore(prioOf(redis.call('HGET', k, 'd'))), seq .. id)
          pushGrouped(q, g, 1)
        else
          defer('ZADD', waitKey, waitScore(prioOf(redis.call('HGET', k, 'd'))), seq .. id)
        end
        redis.call('HSET', k, 'state', 'waiting', 'seq', seq)
      end
    end
    flushDeferred()
    firstDelayed = firstScore(delayedKey)
  end

  if redis.call('SISMEMBER', pausedKey, q) == 0 then
    -- 3. Reserve from the head of the waiting order (or, with flow
    -- control, as the queue's limits and its lanes' turns allow).
    if flowOn(q) then
      if got < limit and takeFlow(q, waitKey, activeKey, limit - got) > 0 then
        firstActive = (firstActive == nil or expiresN < firstActive) and expiresN or firstActive
      end
      -- Waiting jobs held back by a hold, a rate window or a lane's: free again then.
      local fk = qkey(q, 'flow')
      local f = redis.call('HMGET', fk, 'h', 'rm', 'rp', 'gw')
      if redis.call('ZCARD', waitKey) + (tonumber(f[4]) or 0) > 0 then
        local hold = tonumber(f[1])
        if hold and hold > nowN then
          consider(hold)
        elseif f[2] and rateFree(qkey(q, 'rate'), fk, nowN, tonumber(f[2]), tonumber(f[3])) <= 0 then
          consider(rateFreesAt(qkey(q, 'rate'), tonumber(f[3])))
        end
        consider(firstScore(qkey(q, 'gtimed')))
      end
      sweepIdle(q, nowN)
    elseif got < limit then
      local popped = redis.call('ZPOPMIN', waitKey, limit - got)
      allocSeq(#popped / 2)
      for j = 1, #popped, 2 do
        if take(q, popped[j], activeKey) then
          firstActive = (firstActive == nil or expiresN < firstActive) and expiresN or firstActive
        end
      end
      flushDeferred()
    end
    -- 4. When does this queue next have work without anyone calling us?
    consider(firstDelayed)
    consider(firstActive)
  end
end
if nextAt ~= nil then out[1] = fmt(nextAt) end
flushMarks()
flushEvents(now)
return out
`,
);
