// Lua script ENQUEUE and its snippet STORE_JOBS (which FIRE_SCHEDULE shares). KEYS[1]: the slot's
// "{tag}:seq" (it routes the call); ARGV below, ARGV[1] being the key base "{tag}:". Includes (and
// what they need, see snippet.ts): STORE_JOBS (FIELDS_LIST, QKEY, SEQ, PADDED, MEMBER, WAIT_SCORE,
// BATCH, MARKS, EVENTS, D_PARTS, TO_WAITING, TO_DELAYED, DEDUPE).

import { SEQ_WIDTH } from "../codec.ts";
import { BATCH } from "./batch.ts";
import { EVENTS } from "./events.ts";
import { DEDUPE } from "./dedupe.ts";
import { FLOW } from "./flow.ts";
import { D_PARTS, FIELDS_LIST } from "./fields.ts";
import { QKEY } from "./keys.ts";
import { MARKS } from "./marks.ts";
import { MEMBER, PADDED, SEQ } from "./seq.ts";
import { script, type Snippet, snippet } from "./snippet.ts";
import { TO_DELAYED, TO_WAITING, WAIT_SCORE } from "./states.ts";

/**
 * `storeJobs(now, dups, first)`: stores the runs of jobs in ARGV from
 * index `first` on (the layout of {@linkcode ENQUEUE}'s ARGV after its
 * duplicates flag) as `enqueue` does: the job hashes, the wait or delayed
 * set, dedupe keys, wake-up marks and `enqueued` events (buffered: the
 * script calls `flushMarks()` and `flushEvents(now)` after). `dups` is true
 * when an id may repeat within the call. Returns what ENQUEUE returns (see
 * there). Shared by ENQUEUE and FIRE_SCHEDULE.
 *
 * @example
 * ```ts ignore
 * const lua = script([STORE_JOBS], `local out = storeJobs(ARGV[2], false, 4) flushMarks() flushEvents(ARGV[2]) return out`);
 * ```
 */
export const STORE_JOBS: Snippet = snippet(
  ["storeJobs"],
  [
    FIELDS_LIST,
    QKEY,
    SEQ,
    PADDED,
    MEMBER,
    WAIT_SCORE,
    BATCH,
    MARKS,
    EVENTS,
    D_PARTS,
    TO_WAITING,
    TO_DELAYED,
    DEDUPE,
    FLOW,
  ],
  `
-- A run's count and its jobs' group: "n", or "n:group" (likewise "D", "D:group").
local function runHead(n)
  local cut = string.find(n, ':', 1, true)
  if cut == nil then return n, false end
  return string.sub(n, 1, cut - 1), string.sub(n, cut + 1)
end
local function storeJobs(now, dups, first)
  local nowN = tonumber(now)
  local out, keys = {}, {}
  local count = 0
  local r = first
  while r <= #ARGV do
    local n = runHead(ARGV[r + 4])
    if n == 'D' then
      count = count + 1
      keys[count] = base .. 'job:' .. ARGV[r + 5]
      r = r + 11
    else
      local last = r + 4 + 2 * tonumber(n)
      for j = r + 5, last, 2 do
        count = count + 1
        keys[count] = base .. 'job:' .. ARGV[j]
      end
      r = last + 1
    end
  end
  allocSeq(count)
  -- One EXISTS over the whole batch (in chunks): when none of the ids is
  -- stored and none repeats, the usual case, no job needs a check of its own.
  local existing = 0
  local c = 1
  while c <= count do
    local e = c + 3999
    if e > count then e = count end
    existing = existing + redis.call('EXISTS', unpack(keys, c, e))
    c = e + 1
  end
  local check = dups or existing > 0
  local seen = {}
  local no = 0
  -- The hot loop inlines nextPadded(), member() and defer(): per job it makes
  -- one string for the hash's d, one for the member, and one HSET.
  local seq, hi, hiText = seqNext, -1, ''
  -- The task name, for the enqueued events: d's part after its 7th "|" (names may hold "|").
  local function nameOf(d)
    local at = 0
    for _ = 1, 7 do at = string.find(d, '|', at + 1, true) end
    return string.sub(d, at + 1, -2)
  end
  -- A job with dedupe (rare: every step of it may cost a command). Returns
  -- its reply entry's position, fields when it stored nothing new (its id
  -- exists, or its key decided), else stores it under its key.
  local function enqueueDedupe(q, prio, runAt, d, id, k, payload, dk, mode, ttl, delay, g)
    if seen[id] or redis.call('EXISTS', k) == 1 then return no, redis.call('HMGET', k, unpack(FIELDS)) end
    local dh = qkey(q, 'dedupe')
    sweepHeld(q, nowN, 8)
    local holder = redis.call('HGET', dh, dk)
    if holder then
      local hk = base .. 'job:' .. holder
      local h = redis.call('HMGET', hk, 'state', 'd', 'dedupeKey', 'dedupeUntil', 'seq', 'g')
      if h[3] == dk then
        local state = h[1]
        if not state then
          -- The enqueue's state (see FIELDS): delayed when d's runAt is after its enqueuedAt.
          local at, first = string.match(h[2], '^[^|]*|[^|]*|[^|]*|[^|]*|([^|]*)|([^|]*)|')
          state = tonumber(first) > tonumber(at) and 'delayed' or 'waiting'
        end
        local pending = state == 'waiting' or state == 'delayed'
        if mode == 'debounce' then
          if pending then
            local hseq = seqQueueOf(h[2])
            local hm = member(tonumber(h[5]) or hseq or 0, holder)
            if state == 'waiting' and h[6] and flowOn(q) then
              dropGrouped(q, h[6], hm, nowN)
            else
              redis.call('ZREM', qkey(q, state == 'waiting' and 'wait' or 'delayed'), hm)
            end
            redis.call('HSET', hk, 'payload', payload)
            -- toWaiting and toDelayed take their seq from nextPadded(): the
            -- one this job was counted for in allocSeq.
            seqNext = seq
            if tonumber(runAt) > nowN then
              toDelayed(hk, holder, q, runAt)
            else
              redis.call('HSET', hk, 'runAt', runAt)
              toWaiting(hk, holder, q, prioOf(h[2]))
            end
            seq = seqNext
            emit(q, '["b",' .. jstr(holder) .. ',' .. runAt .. ']')
            return 'b' .. no .. ':' .. holder, redis.call('HMGET', hk, unpack(FIELDS))
          end
        elseif pending or (mode == 'unique' and state == 'active') or
          (tonumber(h[4]) or 0) > nowN then
          return 'u' .. no .. ':' .. holder, redis.call('HMGET', hk, unpack(FIELDS))
        end
      end
    end
    seen[id] = true -- stored: a later job of the call with this id finds it
    local s = padSeq(seq)
    seq = seq + 1
    if ttl == '' then
      redis.call('HSET', k, 'd', d .. s, 'payload', payload, 'dedupeKey', dk)
    else
      redis.call('HSET', k, 'd', d .. s, 'payload', payload, 'dedupeKey', dk,
        'dedupeUntil', fmt(nowN + tonumber(ttl)))
    end
    redis.call('HSET', dh, dk, id)
    if g then
      redis.call('HSET', k, 'g', g)
      flowStart(q)
    end
    if tonumber(runAt) > nowN then
      redis.call('ZADD', qkey(q, 'delayed'), runAt, s .. id)
    elseif g then
      redis.call('ZADD', gkey(q, 'gw', g), waitScore(prio), s .. id)
      pushGrouped(q, g, 1)
    else
      redis.call('ZADD', qkey(q, 'wait'), waitScore(prio), s .. id)
    end
    mark(q, 1)
    emit(q, '["E",' .. runAt .. ',' .. jstr(nameOf(d)) .. ',' .. jstrs({id}) .. ']')
    return nil
  end
  r = first
  while r <= #ARGV do
    local q, runAt, d = ARGV[r], ARGV[r + 2], ARGV[r + 3]
    local n, g = runHead(ARGV[r + 4])
    if n == 'D' then
      no = no + 1
      local at, fields = enqueueDedupe(q, ARGV[r + 1], runAt, d, ARGV[r + 5], keys[no], ARGV[r + 6],
        ARGV[r + 7], ARGV[r + 8], ARGV[r + 9], ARGV[r + 10], g)
      if at then
        out[#out + 1] = at
        out[#out + 1] = fields
      end
      r = r + 11
    else
    local last = r + 4 + 2 * tonumber(n)
    local zk, score = qkey(q, 'wait'), waitScore(ARGV[r + 1])
    local delayed = tonumber(runAt) > nowN
    if delayed then zk, score = qkey(q, 'delayed'), runAt
    elseif g then zk = gkey(q, 'gw', g) end
    local zadd, n = {}, 0
    -- The task name, for the events: d's part after its 7th "|" (names may hold "|").
    -- The enqueued events of a run are one row ["E", runAt, name, [ids]].
    local evIds = eventsOf(q) and {}
    for j = r + 5, last, 2 do
      no = no + 1
      local id, k = ARGV[j], keys[no]
      if check and (seen[id] or redis.call('EXISTS', k) == 1) then
        out[#out + 1] = no
        out[#out + 1] = redis.call('HMGET', k, unpack(FIELDS))
      else
        if dups then seen[id] = true end
        local lo = seq % 100
        if seq - lo ~= hi then
          hi = seq - lo
          hiText = string.format('%0${SEQ_WIDTH - 2}d', hi / 100)
        end
        local s = hiText .. LO[lo + 1]
        seq = seq + 1
        zadd[n + 1] = score
        zadd[n + 2] = s .. id
        n = n + 2
        if g then
          redis.call('HSET', k, 'd', d .. s, 'payload', ARGV[j + 1], 'g', g)
        else
          redis.call('HSET', k, 'd', d .. s, 'payload', ARGV[j + 1])
        end
        if evIds then evIds[#evIds + 1] = id end
      end
    end
    if n > 0 then
      callMany('ZADD', zk, zadd, n)
      mark(q, n / 2)
      if g then
        flowStart(q)
        if not delayed then pushGrouped(q, g, n / 2) end
      end
      if evIds then
        -- The task name: d's part after its 7th "|" (names may hold "|").
        local at = 0
        for _ = 1, 7 do at = string.find(d, '|', at + 1, true) end
        emitMany(q, '["E",' .. runAt .. ',' .. jstr(string.sub(d, at + 1, -2)) .. ',' ..
          jstrs(evIds) .. ']', #evIds)
      end
    end
    r = last + 1
    end
  end
  return out
end
`,
);

/**
 * ARGV: base, now, a duplicates flag ("1" when an id may repeat within this
 * call, else ""), then runs of jobs that share their queue, priority, runAt
 * and packed field d: queue, priority, runAt, d without its trailing seq
 * ("priority|...|name|"), job count n, then n pairs id, payload. A new job
 * gets only 'd' and 'payload' (see FIELDS). Returns, for the jobs whose id
 * existed (or came earlier in the call: the first one wins), their position
 * (1-based) and stored fields (HMGET FIELDS): an empty array when every job
 * was stored. The work is {@linkcode STORE_JOBS}'s.
 *
 * A job with dedupe is a run of its own whose count is "D", followed by
 * id, payload, key, mode ("unique", "throttle", "debounce"), ttl (or ""),
 * delay (or ""); its runAt is the debounce's `now + delay`. When its key
 * decides (a duplicate, or a debounce of the key's pending job), its
 * position in the reply is a string: "u" (duplicate) or "b" (debounced),
 * the position, ":", the id of the key's job; then that job's fields.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("ENQUEUE", ENQUEUE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const ENQUEUE: string = script(
  [STORE_JOBS, MARKS, EVENTS],
  `
local out = storeJobs(ARGV[2], ARGV[3] == '1', 4)
flushMarks()
flushEvents(ARGV[2])
return out
`,
);
