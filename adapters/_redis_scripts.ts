// Lua scripts of RedisStorage, one per state change. Every script gets
// KEYS[1] = the slot's sequence counter ("{tag}:seq"), which routes the call
// in Redis Cluster, and ARGV[1] = the key base "{tag}:". Every other key a
// script touches is built from that base, so it lives in the same hash slot.
//
// Times come only from ARGV (the core's clock); scripts never call TIME.
//
// Numbers that leave Lua as strings go through string.format("%.0f"), because
// tostring() keeps only 14 significant digits.

import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS } from "../core/task.ts";

/**
 * The job hash fields read back as a record, in this order (HMGET). The
 * TypeScript side parses the same order.
 *
 * Enqueue writes only two fields, `payload` and `d`, because creating a job
 * hash is most of the work Redis does per enqueued job. `d` packs what never
 * changes after enqueue plus the enqueue's sequence number and runAt:
 * `priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq`
 * (queue names hold no "|"; seq is after the last "|", so the name may hold
 * any character). A job enqueued by task name leaves the settings it did not
 * set empty (`0||||...`: the task's); the first RESERVE with that task in its
 * task defaults fills them in and rewrites d, once.
 * Every later state change writes `state`, `seq` and, when it changes,
 * `runAt`, which then override d's. So: `state` absent means waiting, or
 * delayed when d's runAt is after enqueuedAt (as enqueue decided); `seq` and
 * `runAt` absent mean d's. `attempt` and `stalls` are absent until they are
 * first set: absent means 0.
 */
export const FIELDS: readonly string[] = [
  "d",
  "payload",
  "attempt",
  "stalls",
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

/**
 * The fields RESERVE reads back (HMGET order): what a reserved job needs
 * besides what the script knows already (its queue, state, startedAt and the
 * lease it sets itself). The first RESERVE_FIRST are read for every job; the
 * rest only when `attempt` is present, because every write that sets one of
 * them (a lease, progress, an outcome, a stall, a repair, a retry of a
 * failed job) also sets `attempt`: a job never reserved has none of them.
 */
export const RESERVE_FIELDS: readonly string[] = [
  "d",
  "payload",
  "attempt",
  "runAt",
  "errors",
  "stalls",
  "progress",
  "result",
  "error",
  "raw",
];
/** How many RESERVE_FIELDS every reserved job reads (see there). */
export const RESERVE_FIRST = 5;
const RESERVE_ATTEMPT = RESERVE_FIELDS.indexOf("attempt") + 1;

/** Width of the zero-padded sequence that prefixes sorted-set members. */
export const SEQ_WIDTH = 15;

const PRELUDE = `
local base = ARGV[1]
local seqKey = KEYS[1]
--@ FIELDS
local FIELDS = {${FIELDS.map((f) => `'${f}'`).join(", ")}}

--@ jkey
local function jkey(id) return base .. 'job:' .. id end
--@ qkey
-- Key names are built once per script call (hot loops ask for the same few).
local qkeys = {}
local function qkey(q, kind)
  local t = qkeys[q]
  if t == nil then
    t = {}
    qkeys[q] = t
  end
  local k = t[kind]
  if k == nil then
    k = base .. 'q:' .. q .. ':' .. kind
    t[kind] = k
  end
  return k
end
--@ allocSeq nextSeq
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
--@ fmt
local function fmt(n) return string.format('%.0f', n) end

--@ padSeq nextPadded LO
local function padSeq(seq) return string.format('%0${SEQ_WIDTH}d', seq) end
-- The next sequence number, zero padded: built from its last two digits (a
-- table of constants) and the rest, formatted once per hundred numbers, since
-- formatting numbers is slow and hot loops take consecutive numbers.
local LO = {${Array.from({ length: 100 }, (_, i) => `'${String(i).padStart(2, "0")}'`).join(",")}}
local padHi, padHiText = -1, ''
local function nextPadded()
  local seq = nextSeq()
  local lo = seq % 100
  if seq - lo ~= padHi then
    padHi = seq - lo
    padHiText = string.format('%0${SEQ_WIDTH - 2}d', padHi / 100)
  end
  return padHiText .. LO[lo + 1]
end

--@ member memberId
-- Members of every set are "<seq><id>" with a zero-padded sequence, so equal
-- scores (same priority, runAt or finishedAt) keep the order in which jobs
-- entered the set. The job hash keeps 'seq' (padded, or d's) to rebuild it. In 'active' the
-- sequence is the lease's: its token is "<queue>:<seq>", so the member
-- "<seq><id>" exists exactly while that lease is held, and one ZREM both
-- checks a token and ends its lease.
local function member(seq, id) return padSeq(seq) .. id end
local function memberId(m) return string.sub(m, ${SEQ_WIDTH + 1}) end

--@ waitScore
-- Waiting order: score 1000 - priority (higher priority first), then the
-- member's sequence prefix (first in, first out).
local waitScores = {}
local function waitScore(priority)
  local score = waitScores[priority]
  if score == nil then
    score = fmt(1000 - (tonumber(priority) or 0))
    if priority ~= nil and priority ~= false then waitScores[priority] = score end
  end
  return score
end

--@ unpackD prioOf seqQueueOf
-- The packed field 'd' (see FIELDS) starts "priority|maxAttempts|maxStalls|".
local function unpackD(d)
  if not d then return nil, nil, nil end
  local p, ma, ms = string.match(d, '^([^|]*)|([^|]*)|([^|]*)|')
  return tonumber(p), tonumber(ma), tonumber(ms)
end
local function prioOf(d)
  if not d then return nil end
  return tonumber(string.match(d, '^([^|]*)|'))
end
-- The enqueue's seq and the queue, from d (nil when d does not parse).
local function seqQueueOf(d)
  if not d then return nil, nil end
  local q = string.match(d, '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|([^|]+)|')
  return tonumber(string.match(d, '|([^|]*)$')), q
end

--@ withDefaults
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

--@ defer callMany flushDeferred
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

--@ mark flushMarks
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

--@ appendError
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

--@ toWaiting
local function toWaiting(k, id, q, priority)
  local seq = nextPadded()
  redis.call('ZADD', qkey(q, 'wait'), waitScore(priority), seq .. id)
  redis.call('HSET', k, 'state', 'waiting', 'seq', seq)
  mark(q)
end

--@ toDelayed
local function toDelayed(k, id, q, runAt)
  local seq = nextPadded()
  redis.call('ZADD', qkey(q, 'delayed'), runAt, seq .. id)
  redis.call('HSET', k, 'state', 'delayed', 'seq', seq, 'runAt', runAt)
  mark(q)
end

--@ toFinished
local function toFinished(k, id, q, state, now)
  local seq = nextPadded()
  redis.call('ZADD', qkey(q, state), now, seq .. id)
  redis.call('HSET', k, 'state', state, 'seq', seq, 'finishedAt', now)
end

--@ notHash
-- A job key that holds something other than a hash (written by hand or by
-- another program) makes HMGET fail with WRONGTYPE halfway through a script,
-- and Redis does not roll back what a script already did: the jobs popped
-- before the error would vanish from every set. notHash() replaces such a key
-- with a readable failed record that keeps the old value in 'raw', and says so.
local function notHash(k, id, q, now)
  local t = redis.call('TYPE', k)['ok']
  if t == 'hash' or t == 'none' then return false end
  local value = '(a ' .. t .. ')'
  if t == 'string' then value = redis.call('GET', k) end
  local err = '{"message":' .. cjson.encode('Cannot parse the stored job ' .. id ..
    ': its key holds a ' .. t .. ', not a hash') ..
    ',"name":"CorruptRecordError","attempt":0,"at":' .. now .. '}'
  redis.call('DEL', k)
  redis.call('HSET', k, 'd', '0|1|0|0|' .. now .. '|' .. now .. '|' .. q .. '|unknown|0', 'payload', 'null',
    'attempt', '0', 'stalls', '0', 'runAt', now, 'startedAt', now, 'error', err, 'errors', err,
    'raw', '{"type":' .. cjson.encode(t) .. ',"value":' .. cjson.encode(value) .. '}')
  toFinished(k, id, q, 'failed', now)
  return true
end

--@ pruneSet
-- Deletes up to 'budget' finished jobs of one set beyond a retention policy:
-- first those finished before now - age, then the oldest beyond count.
-- Members are sorted by (finishedAt, seq), so the oldest come first by rank.
local function pruneSet(q, state, count, age, now, budget, removed)
  local zk = qkey(q, state)
  local done = 0
  if age >= 0 and budget > 0 then
    local old = redis.call('ZRANGEBYSCORE', zk, '-inf', '(' .. fmt(now - age), 'LIMIT', 0, budget)
    local keys = {}
    for n, m in ipairs(old) do
      local id = memberId(m)
      keys[n] = jkey(id)
      removed[#removed + 1] = id
    end
    if #old > 0 then
      callMany('DEL', false, keys, #keys)
      redis.call('ZREMRANGEBYRANK', zk, 0, #old - 1)
    end
    done = #old
  end
  if count >= 0 and done < budget then
    local extra = redis.call('ZCARD', zk) - count
    if extra > budget - done then extra = budget - done end
    if extra > 0 then
      local oldest = redis.call('ZRANGE', zk, 0, extra - 1)
      local keys = {}
      for n, m in ipairs(oldest) do
        local id = memberId(m)
        keys[n] = jkey(id)
        removed[#removed + 1] = id
      end
      callMany('DEL', false, keys, #keys)
      redis.call('ZREMRANGEBYRANK', zk, 0, extra - 1)
      done = done + extra
    end
  end
  return done
end
`;

// Running a helper's definition costs time on every call (a few µs for
// them all), so each script gets only the helpers it uses: PRELUDE is cut
// into chunks at "--@ names" lines, and a chunk goes in when the body, or a
// chunk that goes in, mentions one of its names. Chunks keep their order, so
// a helper is always defined before the helpers that call it.
const [HEAD, ...CHUNKS] = PRELUDE.split("\n--@ ").map((text, i) => {
  if (i === 0) return { names: [] as RegExp[], text: `${text}\n` };
  const eol = text.indexOf("\n");
  const names = text.slice(0, eol).split(" ").map((n) => new RegExp(`\\b${n}\\b`));
  return { names, text: `${text.slice(eol + 1)}\n` };
});

function script(body: string): string {
  const used = new Set<number>();
  let scan = body;
  for (let grew = true; grew;) {
    grew = false;
    CHUNKS.forEach((chunk, i) => {
      if (!used.has(i) && chunk.names.some((name) => name.test(scan))) {
        used.add(i);
        scan += chunk.text;
        grew = true;
      }
    });
  }
  return HEAD.text + CHUNKS.filter((_, i) => used.has(i)).map((c) => c.text).join("") + body;
}

/**
 * ARGV: base, now, a duplicates flag ("1" when an id may repeat within this
 * call, else ""), then runs of jobs that share their queue, priority, runAt
 * and packed field d: queue, priority, runAt, d without its trailing seq
 * ("priority|...|name|"), job count n, then n pairs id, payload. A new job
 * gets only 'd' and 'payload' (see FIELDS). Returns, for the jobs whose id
 * existed (or came earlier in the call: the first one wins), their position
 * (1-based) and stored fields (HMGET FIELDS): an empty array when every job
 * was stored.
 */
export const ENQUEUE: string = script(`
local now = ARGV[2]
local nowN = tonumber(now)
local dups = ARGV[3] == '1'
local out, keys = {}, {}
local count = 0
local r = 4
while r <= #ARGV do
  local last = r + 4 + 2 * tonumber(ARGV[r + 4])
  for j = r + 5, last, 2 do
    count = count + 1
    keys[count] = base .. 'job:' .. ARGV[j]
  end
  r = last + 1
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
r = 4
while r <= #ARGV do
  local q, runAt, d = ARGV[r], ARGV[r + 2], ARGV[r + 3]
  local last = r + 4 + 2 * tonumber(ARGV[r + 4])
  local zk, score = qkey(q, 'wait'), waitScore(ARGV[r + 1])
  if tonumber(runAt) > nowN then zk, score = qkey(q, 'delayed'), runAt end
  local zadd, n = {}, 0
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
      redis.call('HSET', k, 'd', d .. s, 'payload', ARGV[j + 1])
    end
  end
  if n > 0 then
    callMany('ZADD', zk, zadd, n)
    mark(q, n / 2)
  end
  r = last + 1
end
flushMarks()
return out
`);

/**
 * ARGV: base, now, limit, owner, expiresAt, reclaimMax, promoteMax, paused
 * key, then the queues in order, then the task defaults ("\nname
 * maxAttempts maxStalls timeout" per task, or ""). Returns an array: nextAt (or false),
 * then per reserved job: id, queue, lease token, and the array of its
 * RESERVE_FIELDS values (attempt already incremented; only the first
 * RESERVE_FIRST for a job never reserved before).
 */
export const RESERVE: string = script(`
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
local out, no = {false}, 1
local got = 0
local nextAt = nil
local function consider(t)
  if t ~= nil and (nextAt == nil or t < nextAt) then nextAt = t end
end
for i = 10, 9 + nq do
  local q = ARGV[i]
  local activeKey, waitKey, delayedKey = qkey(q, 'active'), qkey(q, 'wait'), qkey(q, 'delayed')

  -- 1. Reclaim expired leases (bounded): the worker died or hung. A reclaim
  -- counts as a stall; too many stalls or no attempts left fail the job.
  -- The earliest expiry is looked at first: nothing to do is the usual case.
  local a = redis.call('ZRANGE', activeKey, 0, 0, 'WITHSCORES')
  local firstActive = tonumber(a[2])
  if firstActive ~= nil and firstActive <= nowN then
    local expired = redis.call('ZRANGEBYSCORE', activeKey, '-inf', now, 'LIMIT', 0, reclaimMax)
    if #expired > 0 then redis.call('ZREMRANGEBYRANK', activeKey, 0, #expired - 1) end
    allocSeq(#expired)
    for _, m in ipairs(expired) do
      local id = memberId(m)
      local k = jkey(id)
      if not notHash(k, id, q, now) then
        local h = redis.call('HMGET', k, 'attempt', 'd', 'stalls', 'errors')
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
        else
          toWaiting(k, id, q, priority)
        end
      end
    end
    a = redis.call('ZRANGE', activeKey, 0, 0, 'WITHSCORES')
    firstActive = tonumber(a[2])
  end

  -- 2. Promote due delayed jobs (bounded), in (runAt, seq) order: they join
  -- the waiting order in the order they became due.
  local dl = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
  local firstDelayed = tonumber(dl[2])
  if firstDelayed ~= nil and firstDelayed <= nowN then
    local due = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, promoteMax)
    if #due > 0 then redis.call('ZREMRANGEBYRANK', delayedKey, 0, #due - 1) end
    allocSeq(#due)
    for _, m in ipairs(due) do
      local id = memberId(m)
      local k = jkey(id)
      if not notHash(k, id, q, now) then
        local seq = nextPadded()
        defer('ZADD', waitKey, waitScore(prioOf(redis.call('HGET', k, 'd'))), seq .. id)
        redis.call('HSET', k, 'state', 'waiting', 'seq', seq)
      end
    end
    flushDeferred()
    dl = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
    firstDelayed = tonumber(dl[2])
  end

  if redis.call('SISMEMBER', pausedKey, q) == 0 then
    -- 3. Reserve from the head of the waiting order.
    if got < limit then
      local popped = redis.call('ZPOPMIN', waitKey, limit - got)
      allocSeq(#popped / 2)
      for j = 1, #popped, 2 do
        local id = memberId(popped[j])
        local k = jkey(id)
        -- A key that is not a hash fails HMGET: notHash() then moves it to
        -- failed (pcall: the popped jobs before it must not vanish).
        local h = redis.pcall('HMGET', k, unpack(RFIRST))
        if h.err then
          notHash(k, id, q, now)
        else
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
          out[no + 1] = id
          out[no + 2] = q
          out[no + 3] = token
          out[no + 4] = h
          no = no + 4
          got = got + 1
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
return out
`);

/**
 * ARGV: base, pruned-ids flag ("1": return them, "": return how many), now,
 * then retention (completed count, completed age, failed count, failed age:
 * "" for none), prune budget, the number of settlements, then per settlement
 * its kind, id, token and what the kind needs: c (complete, no result), C
 * result JSON (complete), f error JSON (fail), r error JSON, runAt (retry),
 * l runAt or "" (release). Returns {applied flags, pruned ids or their count}.
 */
export const SETTLE: string = script(`
local now = ARGV[3]
local nowN = tonumber(now)
local results, touched, removed = {}, {}, {}
-- A retention that keeps no completed job (as a "remove on complete"
-- option would): completed jobs are deleted at once, in one DEL at the end.
local dropCompleted = ARGV[4] == '0'
local dropped = {}
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
    if kind == 'c' and dropCompleted then
      dropped[#dropped + 1] = k
      removed[#removed + 1] = id
      touched[q] = true -- completed jobs stored before are pruned as usual
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
    else
      redis.call('HDEL', k, 'owner', 'token', 'expiresAt')
      local more = redis.call('HMGET', k, 'd', 'errors', 'attempt')
      local priority = prioOf(more[1])
      if kind == 'f' or kind == 'r' then
        redis.call('HSET', k, 'error', a, 'errors', appendError(more[2], a))
        if kind == 'f' then
          toFinished(k, id, q, 'failed', now)
          touched[q] = true
        elseif tonumber(b) <= nowN then
          redis.call('HSET', k, 'runAt', b)
          toWaiting(k, id, q, priority)
        else
          toDelayed(k, id, q, b)
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
  end
end
flushMarks()
if ARGV[2] == '1' then return {results, removed} end
return {results, #removed}
`);

/** ARGV: base, expiresAt, then id, token pairs. Returns 1/0 per lease. */
export const EXTEND: string = script(`
local expiresAt = ARGV[2]
local out = {}
for i = 3, #ARGV, 2 do
  local k = jkey(ARGV[i])
  local h = redis.call('HMGET', k, 'state', 'token')
  if h[1] == 'active' and h[2] == ARGV[i + 1] then
    -- The token is "<queue>:<seq>" (see RESERVE).
    redis.call('HSET', k, 'expiresAt', expiresAt)
    redis.call('ZADD', qkey(string.sub(h[2], 1, -${SEQ_WIDTH + 2}), 'active'), 'XX', expiresAt,
      string.sub(h[2], -${SEQ_WIDTH}) .. ARGV[i])
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
  for n, m in ipairs(all) do
    local id = memberId(m)
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
local h = redis.call('HMGET', k, 'state', 'seq', 'd')
if h[1] ~= 'failed' then return 0 end
local _, q = seqQueueOf(h[3])
if q == nil then return 0 end
redis.call('ZREM', qkey(q, 'failed'), member(tonumber(h[2]) or 0, id))
redis.call('HSET', k, 'attempt', 0, 'stalls', 0, 'runAt', now)
redis.call('HDEL', k, 'finishedAt')
toWaiting(k, id, q, prioOf(h[3]))
flushMarks()
return 1
`);

/**
 * ARGV: base, id, and "failed" to delete only a failed job (else any job
 * that is not active). Returns 1/0.
 */
export const REMOVE: string = script(`
local id = ARGV[2]
local k = jkey(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'd')
-- No state and no d: no job (a job's state is absent only before its first
-- change, see FIELDS).
if (h[1] == false and h[3] == false) or h[1] == 'active' then return 0 end
if ARGV[3] == 'failed' and h[1] ~= 'failed' then return 0 end
local seq, q = seqQueueOf(h[3])
if q ~= nil then
  local m = member(tonumber(h[2]) or seq or 0, id)
  redis.call('ZREM', qkey(q, 'wait'), m)
  redis.call('ZREM', qkey(q, 'delayed'), m)
  redis.call('ZREM', qkey(q, 'completed'), m)
  redis.call('ZREM', qkey(q, 'failed'), m)
end
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
  local h = redis.call('HMGET', k, 'state', 'token')
  if h[1] == 'active' and h[2] == token then
    redis.call('ZREM', qkey(q, 'active'), string.sub(token, -${SEQ_WIDTH}) .. id)
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

/**
 * Error path only: which of the commands in ARGV the ACL user may not run
 * (with KEYS[1], a key of the slot, as their key), checked without running
 * them. Names that are not commands (a script's other upper-case words) are
 * skipped.
 */
export const DENIED_COMMANDS: string = `
local out = {}
for i = 1, #ARGV do
  local ok, allowed = pcall(redis.acl_check_cmd, ARGV[i], KEYS[1])
  if ok and not allowed then out[#out + 1] = ARGV[i] end
end
return out
`;

/** ARGV: base, then job ids. Returns 1 or 0 per id: whether its job hash exists. */
export const EXIST: string = script(`
local out = {}
for i = 2, #ARGV do out[i - 1] = redis.call('EXISTS', jkey(ARGV[i])) end
return out
`);

/**
 * KEYS[1]: the id index. ARGV: "", then pairs id, queue: deletes each entry
 * that still names that queue (one changed since it was checked is kept).
 */
export const FORGET_STALE: string = `
local key = KEYS[1]
for i = 2, #ARGV, 2 do
  if redis.call('HGET', key, ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', key, ARGV[i]) end
end
return 0
`;
