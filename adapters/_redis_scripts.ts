// Lua scripts of RedisStorage, one per state change. Every script gets
// KEYS[1] = the slot's sequence counter ("{tag}:seq"), which routes the call
// in Redis Cluster, and ARGV[1] = the key base "{tag}:". Every other key a
// script touches is built from that base, so it lives in the same hash slot.
//
// Times come only from ARGV (the core's clock); scripts never call TIME.
//
// Numbers that leave Lua as strings go through string.format("%.0f"), because
// tostring() keeps only 14 significant digits.

/**
 * The job hash fields read back as a record, in this order (HMGET). The
 * TypeScript side parses the same order.
 */
export const FIELDS: readonly string[] = [
  "name",
  "queue",
  "payload",
  "priority",
  "attempt",
  "maxAttempts",
  "stalls",
  "maxStalls",
  "timeout",
  "enqueuedAt",
  "runAt",
  "state",
  "startedAt",
  "finishedAt",
  "owner",
  "token",
  "expiresAt",
  "progress",
  "result",
  "error",
  "errors",
  "raw",
];

/** Width of the zero-padded sequence that prefixes sorted-set members. */
export const SEQ_WIDTH = 15;

const F = Object.fromEntries(FIELDS.map((name, i) => [name, i + 1]));

// Shared helpers, prepended to every script.
const PRELUDE = `
local base = ARGV[1]
local seqKey = KEYS[1]
local FIELDS = {${FIELDS.map((f) => `'${f}'`).join(", ")}}

local function jkey(id) return base .. 'job:' .. id end
local function qkey(q, kind) return base .. 'q:' .. q .. ':' .. kind end
-- Sequence numbers: where a script knows how many it needs, it takes them
-- in one INCRBY (allocSeq) instead of one INCR each. Scripts run one at a
-- time, so numbers only grow; a few unused ones are harmless gaps. At 15
-- digits the counter lasts centuries at any realistic rate.
local seqNext, seqLast = 1, 0
local function allocSeq(n)
  if n > 0 then
    seqLast = redis.call('INCRBY', seqKey, n)
    seqNext = seqLast - n + 1
  end
end
local function nextSeq()
  if seqNext > seqLast then allocSeq(1) end
  seqNext = seqNext + 1
  return seqNext - 1
end
local function fmt(n) return string.format('%.0f', n) end

-- Members of every set but 'active' are "<seq><id>" with a zero-padded
-- sequence, so equal scores (same priority, runAt or finishedAt) keep the
-- order in which jobs entered the set. The job hash keeps 'seq' to rebuild it.
local function member(seq, id) return string.format('%0${SEQ_WIDTH}d', seq) .. id end
local function memberId(m) return string.sub(m, ${SEQ_WIDTH + 1}) end

-- Waiting order: score 1000 - priority (higher priority first), then the
-- member's sequence prefix (first in, first out).
local function waitScore(priority)
  return fmt(1000 - (tonumber(priority) or 0))
end

-- Wake-up markers: a short list per queue that idle workers BLPOP. One push
-- per job made ready (capped), trimmed in the same script so it stays bounded.
local MARK_MAX = 16
local marks = {}
local function mark(q, n) marks[q] = (marks[q] or 0) + (n or 1) end
local function flushMarks()
  for q, n in pairs(marks) do
    if n > MARK_MAX then n = MARK_MAX end
    local vals = {}
    for i = 1, n do vals[i] = '1' end
    local k = qkey(q, 'mark')
    redis.call('LPUSH', k, unpack(vals))
    redis.call('LTRIM', k, 0, MARK_MAX - 1)
  end
end

-- Attempt errors are JSON objects joined by newlines: JSON text never holds a
-- raw newline, so appending and trimming to the last 10 needs no cjson.
local function appendError(errors, err)
  if errors == false or errors == nil or errors == '' then return err end
  errors = errors .. '\\n' .. err
  local _, count = string.gsub(errors, '\\n', '')
  while count >= 10 do
    errors = string.sub(errors, string.find(errors, '\\n', 1, true) + 1)
    count = count - 1
  end
  return errors
end

local function toWaiting(k, id, q, priority)
  local seq = nextSeq()
  redis.call('ZADD', qkey(q, 'wait'), waitScore(priority), member(seq, id))
  redis.call('HSET', k, 'state', 'waiting', 'seq', seq)
  mark(q)
end

local function toDelayed(k, id, q, runAt)
  local seq = nextSeq()
  redis.call('ZADD', qkey(q, 'delayed'), runAt, member(seq, id))
  redis.call('HSET', k, 'state', 'delayed', 'seq', seq, 'runAt', runAt)
  mark(q)
end

local function toFinished(k, id, q, state, now)
  local seq = nextSeq()
  redis.call('ZADD', qkey(q, state), now, member(seq, id))
  redis.call('HSET', k, 'state', state, 'seq', seq, 'finishedAt', now)
end

-- Deletes up to 'budget' finished jobs of one set beyond a retention policy:
-- first those finished before now - age, then the oldest beyond count.
-- Members are sorted by (finishedAt, seq), so the oldest come first by rank.
local function pruneSet(q, state, count, age, now, budget, removed)
  local zk = qkey(q, state)
  local done = 0
  if age >= 0 and budget > 0 then
    local old = redis.call('ZRANGEBYSCORE', zk, '-inf', '(' .. fmt(now - age), 'LIMIT', 0, budget)
    for _, m in ipairs(old) do
      local id = memberId(m)
      redis.call('DEL', jkey(id))
      removed[#removed + 1] = id
    end
    if #old > 0 then redis.call('ZREMRANGEBYRANK', zk, 0, #old - 1) end
    done = #old
  end
  if count >= 0 and done < budget then
    local extra = redis.call('ZCARD', zk) - count
    if extra > budget - done then extra = budget - done end
    if extra > 0 then
      local oldest = redis.call('ZRANGE', zk, 0, extra - 1)
      for _, m in ipairs(oldest) do
        local id = memberId(m)
        redis.call('DEL', jkey(id))
        removed[#removed + 1] = id
      end
      redis.call('ZREMRANGEBYRANK', zk, 0, extra - 1)
      done = done + extra
    end
  end
  return done
end
`;

function script(body: string): string {
  return PRELUDE + body;
}

/**
 * ARGV: base, now, then 9 per job: id, name, queue, payload, priority,
 * maxAttempts, maxStalls, timeout, runAt. Returns per job 1 when stored, or
 * the stored job's fields (HMGET FIELDS) when the id existed.
 */
export const ENQUEUE: string = script(`
local now = ARGV[2]
local nowN = tonumber(now)
local out = {}
allocSeq(math.floor((#ARGV - 2) / 9))
for i = 3, #ARGV, 9 do
  local id, q, runAt = ARGV[i], ARGV[i + 2], ARGV[i + 8]
  local k = jkey(id)
  if redis.call('EXISTS', k) == 1 then
    out[#out + 1] = redis.call('HMGET', k, unpack(FIELDS))
  else
    local seq = nextSeq()
    local state = 'waiting'
    if tonumber(runAt) <= nowN then
      redis.call('ZADD', qkey(q, 'wait'), waitScore(ARGV[i + 4]), member(seq, id))
    else
      state = 'delayed'
      redis.call('ZADD', qkey(q, 'delayed'), runAt, member(seq, id))
    end
    mark(q)
    redis.call('HSET', k, 'name', ARGV[i + 1], 'queue', q, 'payload', ARGV[i + 3],
      'priority', ARGV[i + 4], 'attempt', 0, 'maxAttempts', ARGV[i + 5], 'stalls', 0,
      'maxStalls', ARGV[i + 6], 'timeout', ARGV[i + 7], 'enqueuedAt', now, 'runAt', runAt,
      'state', state, 'seq', seq)
    out[#out + 1] = 1
  end
end
flushMarks()
return out
`);

/**
 * ARGV: base, now, limit, owner, expiresAt, reclaimMax, promoteMax, paused
 * key, then the queues in order. Returns a flat array: nextAt (or false),
 * then per reserved job: id, queue, FIELDS values (after the update).
 */
export const RESERVE: string = script(`
local now = ARGV[2]
local nowN = tonumber(now)
local limit = tonumber(ARGV[3])
local owner, expiresAt = ARGV[4], ARGV[5]
local reclaimMax, promoteMax = tonumber(ARGV[6]), tonumber(ARGV[7])
local pausedKey = ARGV[8]
local out = {false}
local got = 0
local nextAt = nil
local function consider(t)
  if t ~= nil and (nextAt == nil or t < nextAt) then nextAt = t end
end
for i = 9, #ARGV do
  local q = ARGV[i]
  local activeKey, waitKey, delayedKey = qkey(q, 'active'), qkey(q, 'wait'), qkey(q, 'delayed')

  -- 1. Reclaim expired leases (bounded): the worker died or hung. A reclaim
  -- counts as a stall; too many stalls or no attempts left fail the job.
  local expired = redis.call('ZRANGEBYSCORE', activeKey, '-inf', now, 'LIMIT', 0, reclaimMax)
  if #expired > 0 then redis.call('ZREMRANGEBYRANK', activeKey, 0, #expired - 1) end
  allocSeq(#expired)
  for _, id in ipairs(expired) do
    local k = jkey(id)
    local h = redis.call('HMGET', k, 'attempt', 'maxAttempts', 'stalls', 'maxStalls', 'priority', 'errors')
    local attempt = tonumber(h[1]) or 0
    local stalls = (tonumber(h[3]) or 0) + 1
    redis.call('HSET', k, 'stalls', stalls)
    redis.call('HDEL', k, 'owner', 'token', 'expiresAt')
    if stalls > (tonumber(h[4]) or 0) or attempt >= (tonumber(h[2]) or 0) then
      -- Only a stall that ends the job is recorded as its error: a reclaimed
      -- job that runs again has no error of its own to show yet.
      local err = '{"message":"Job stalled: its lease expired ' .. stalls ..
        ' time(s) before an attempt finished","name":"StalledError","attempt":' ..
        fmt(attempt) .. ',"at":' .. now .. '}'
      redis.call('HSET', k, 'error', err, 'errors', appendError(h[6], err))
      toFinished(k, id, q, 'failed', now)
    else
      toWaiting(k, id, q, h[5])
    end
  end

  -- 2. Promote due delayed jobs (bounded), in (runAt, seq) order: they join
  -- the waiting order in the order they became due.
  local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, promoteMax)
  if #due > 0 then redis.call('ZREMRANGEBYRANK', delayedKey, 0, #due - 1) end
  allocSeq(#due)
  for _, m in ipairs(due) do
    local id = memberId(m)
    local k = jkey(id)
    local seq = nextSeq()
    redis.call('ZADD', waitKey, waitScore(redis.call('HGET', k, 'priority')), member(seq, id))
    redis.call('HSET', k, 'state', 'waiting', 'seq', seq)
  end

  if redis.call('SISMEMBER', pausedKey, q) == 0 then
    -- 3. Reserve from the head of the waiting order.
    if got < limit then
      local popped = redis.call('ZPOPMIN', waitKey, limit - got)
      allocSeq(#popped / 2)
      for j = 1, #popped, 2 do
        local id = memberId(popped[j])
        local k = jkey(id)
        local h = redis.call('HMGET', k, unpack(FIELDS))
        local attempt = fmt((tonumber(h[${F.attempt}]) or 0) + 1)
        -- The token is unique for ever: the queue plus a counter of the slot.
        local token = q .. ':' .. fmt(nextSeq())
        redis.call('HSET', k, 'state', 'active', 'attempt', attempt, 'startedAt', now,
          'owner', owner, 'token', token, 'expiresAt', expiresAt)
        redis.call('ZADD', activeKey, expiresAt, id)
        h[${F.state}], h[${F.attempt}], h[${F.startedAt}] = 'active', attempt, now
        h[${F.owner}], h[${F.token}], h[${F.expiresAt}] = owner, token, expiresAt
        out[#out + 1] = id
        out[#out + 1] = q
        for f = 1, #FIELDS do out[#out + 1] = h[f] end
        got = got + 1
      end
    end
    -- 4. When does this queue next have work without anyone calling us?
    local d = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
    if d[2] then consider(tonumber(d[2])) end
    local a = redis.call('ZRANGE', activeKey, 0, 0, 'WITHSCORES')
    if a[2] then consider(tonumber(a[2])) end
  end
end
if nextAt ~= nil then out[1] = fmt(nextAt) end
flushMarks()
return out
`);

/**
 * ARGV: base, now, then retention (completed count, completed age, failed
 * count, failed age: "" for none), prune budget, then 5 per settlement: kind
 * (c|r|f|l), id, token, a (result JSON | error JSON | ""), b (runAt | "").
 * Returns {applied flags, pruned ids}.
 */
export const SETTLE: string = script(`
local now = ARGV[2]
local nowN = tonumber(now)
local results, touched, removed = {}, {}, {}
allocSeq(math.floor((#ARGV - 7) / 5))
for i = 8, #ARGV, 5 do
  local kind, id, token, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local k = jkey(id)
  local h = redis.call('HMGET', k, 'state', 'token', 'queue', 'priority', 'errors', 'attempt')
  if h[1] ~= 'active' or h[2] ~= token then
    results[#results + 1] = 0
  else
    local q = h[3]
    redis.call('ZREM', qkey(q, 'active'), id)
    if kind == 'c' then
      -- The hot path: as few calls as possible.
      local seq = nextSeq()
      redis.call('ZADD', qkey(q, 'completed'), now, member(seq, id))
      if a == '' then
        redis.call('HDEL', k, 'owner', 'token', 'expiresAt', 'result')
        redis.call('HSET', k, 'state', 'completed', 'seq', seq, 'finishedAt', now)
      else
        redis.call('HDEL', k, 'owner', 'token', 'expiresAt')
        redis.call('HSET', k, 'state', 'completed', 'seq', seq, 'finishedAt', now, 'result', a)
      end
      touched[q] = true
    else
      redis.call('HDEL', k, 'owner', 'token', 'expiresAt')
    end
    if kind == 'c' then
      -- done above
    elseif kind == 'f' or kind == 'r' then
      redis.call('HSET', k, 'error', a, 'errors', appendError(h[5], a))
      if kind == 'f' then
        toFinished(k, id, q, 'failed', now)
        touched[q] = true
      elseif tonumber(b) <= nowN then
        redis.call('HSET', k, 'runAt', b)
        toWaiting(k, id, q, h[4])
      else
        toDelayed(k, id, q, b)
      end
    else
      -- release: the attempt did not count
      local attempt = (tonumber(h[6]) or 1) - 1
      if attempt < 0 then attempt = 0 end
      redis.call('HSET', k, 'attempt', attempt)
      if b ~= '' and tonumber(b) > nowN then
        toDelayed(k, id, q, b)
      else
        if b ~= '' then redis.call('HSET', k, 'runAt', b) end
        toWaiting(k, id, q, h[4])
      end
    end
    results[#results + 1] = 1
  end
end
if ARGV[3] ~= '' then
  local budget = tonumber(ARGV[7])
  for q in pairs(touched) do
    pruneSet(q, 'completed', tonumber(ARGV[3]), tonumber(ARGV[4]), nowN, budget, removed)
    pruneSet(q, 'failed', tonumber(ARGV[5]), tonumber(ARGV[6]), nowN, budget, removed)
  end
end
flushMarks()
return {results, removed}
`);

/** ARGV: base, expiresAt, then id, token pairs. Returns 1/0 per lease. */
export const EXTEND: string = script(`
local expiresAt = ARGV[2]
local out = {}
for i = 3, #ARGV, 2 do
  local k = jkey(ARGV[i])
  local h = redis.call('HMGET', k, 'state', 'token', 'queue')
  if h[1] == 'active' and h[2] == ARGV[i + 1] then
    redis.call('HSET', k, 'expiresAt', expiresAt)
    redis.call('ZADD', qkey(h[3], 'active'), 'XX', expiresAt, ARGV[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`);

/** ARGV: base, id, token, progress JSON. Returns 1/0. */
export const PROGRESS: string = script(`
local k = jkey(ARGV[2])
local h = redis.call('HMGET', k, 'state', 'token')
if h[1] ~= 'active' or h[2] ~= ARGV[3] then return 0 end
redis.call('HSET', k, 'progress', ARGV[4])
return 1
`);

/** ARGV: base, queue. Returns counts: waiting, delayed, active, completed, failed. */
export const COUNTS: string = script(`
local q = ARGV[2]
return {
  redis.call('ZCARD', qkey(q, 'wait')), redis.call('ZCARD', qkey(q, 'delayed')),
  redis.call('ZCARD', qkey(q, 'active')), redis.call('ZCARD', qkey(q, 'completed')),
  redis.call('ZCARD', qkey(q, 'failed')),
}
`);

/**
 * ARGV: base, queue, state, offset, limit. Returns a flat array: per job id,
 * FIELDS values. Active jobs are few (bounded by workers' concurrency), so
 * they are read whole and ordered by startedAt here.
 */
export const LIST: string = script(`
local q, state = ARGV[2], ARGV[3]
local offset, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local ids = {}
if state == 'waiting' then
  for _, m in ipairs(redis.call('ZRANGE', qkey(q, 'wait'), offset, offset + limit - 1)) do
    ids[#ids + 1] = memberId(m)
  end
elseif state == 'delayed' then
  for _, m in ipairs(redis.call('ZRANGE', qkey(q, 'delayed'), offset, offset + limit - 1)) do
    ids[#ids + 1] = memberId(m)
  end
elseif state == 'completed' or state == 'failed' then
  for _, m in ipairs(redis.call('ZREVRANGE', qkey(q, state), offset, offset + limit - 1)) do
    ids[#ids + 1] = memberId(m)
  end
elseif state == 'active' then
  local all = redis.call('ZRANGE', qkey(q, 'active'), 0, -1)
  local rows = {}
  for n, id in ipairs(all) do
    rows[n] = {id, tonumber(redis.call('HGET', jkey(id), 'startedAt')) or 0, n}
  end
  table.sort(rows, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[3] < y[3]
  end)
  for n = offset + 1, math.min(offset + limit, #rows) do ids[#ids + 1] = rows[n][1] end
end
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  local h = redis.call('HMGET', jkey(id), unpack(FIELDS))
  for f = 1, #FIELDS do out[#out + 1] = h[f] end
end
return out
`);

/** ARGV: base, id, now. Moves a failed job to waiting with a fresh budget. Returns 1/0. */
export const RETRY_FAILED: string = script(`
local id, now = ARGV[2], ARGV[3]
local k = jkey(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'queue', 'priority')
if h[1] ~= 'failed' then return 0 end
redis.call('ZREM', qkey(h[3], 'failed'), member(tonumber(h[2]) or 0, id))
redis.call('HSET', k, 'attempt', 0, 'stalls', 0, 'runAt', now)
redis.call('HDEL', k, 'finishedAt')
toWaiting(k, id, h[3], h[4])
flushMarks()
return 1
`);

/** ARGV: base, id. Deletes a job that is not active. Returns 1/0. */
export const REMOVE: string = script(`
local id = ARGV[2]
local k = jkey(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'queue')
if h[1] == false or h[1] == 'active' then return 0 end
local q, m = h[3], member(tonumber(h[2]) or 0, id)
redis.call('ZREM', qkey(q, 'wait'), m)
redis.call('ZREM', qkey(q, 'delayed'), m)
redis.call('ZREM', qkey(q, 'completed'), m)
redis.call('ZREM', qkey(q, 'failed'), m)
redis.call('DEL', k)
return 1
`);

/** ARGV: base, paused key, queue. Resumes a queue and wakes its workers. */
export const RESUME: string = script(`
redis.call('SREM', ARGV[2], ARGV[3])
mark(ARGV[3])
flushMarks()
return 1
`);

/**
 * ARGV: base, queue, now, completed count, completed age, failed count,
 * failed age, budget. Returns the removed ids (at most 2 * budget).
 */
export const PRUNE: string = script(`
local removed = {}
local q, now, budget = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[8])
pruneSet(q, 'completed', tonumber(ARGV[4]), tonumber(ARGV[5]), now, budget, removed)
pruneSet(q, 'failed', tonumber(ARGV[6]), tonumber(ARGV[7]), now, budget, removed)
return removed
`);

/**
 * ARGV: base, now, then per record: id, queue, token, field count n, then n
 * field/value pairs. Replaces unparseable records just reserved with a
 * readable failed record (the raw text kept). Returns 1/0 per record.
 */
export const BURY: string = script(`
local now = ARGV[2]
local out = {}
local i = 3
while i <= #ARGV do
  local id, q, token, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local k = jkey(id)
  if redis.call('HGET', k, 'token') == token then
    redis.call('ZREM', qkey(q, 'active'), id)
    redis.call('DEL', k)
    redis.call('HSET', k, unpack(ARGV, i + 4, i + 3 + 2 * n))
    toFinished(k, id, q, 'failed', now)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  i = i + 4 + 2 * n
end
return out
`);

/**
 * For per-queue tags: the id index (id -> queue) lives under the prefix's own
 * tag. ARGV: base, then id, queue pairs. Claims each free id for its queue and
 * returns, per id, the queue that owns it.
 */
export const CLAIM_IDS: string = `
local key = KEYS[1]
local out = {}
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', key, ARGV[i], ARGV[i + 1]) == 1 then
    out[#out + 1] = ARGV[i + 1]
  else
    out[#out + 1] = redis.call('HGET', key, ARGV[i])
  end
end
return out
`;
