// Lua snippet EVENTS: the event streams (see ../events.ts for the reading side).

import { FMT } from "./fmt.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `emit(q, text)` buffers one event (a JSON array, see ../event_codec.ts)
 * for queue `q`'s stream (`eventsOf(q)` is that buffer, nil when events are
 * off, for hot loops), `emitTo(streamBase, text)` for any stream (the
 * workers' is `base .. 'w:'`), and `flushEvents(now)` writes them all at the
 * end of the script: per stream one INCRBY of its event counter and one
 * XADD per 200 events, each entry holding its events as one JSON array and
 * its id being the number of its last event ("<n>-0"), so ids count events
 * without gaps. MINID trimming keeps at least the backlog's newest events.
 * `jstr(s)` is `s` as a JSON string. With a backlog of 0 nothing is written.
 *
 * @example
 * ```ts ignore
 * const lua = script([EVENTS], `emit(q, '["x",' .. jstr(id) .. ']') flushEvents(now)`);
 * ```
 */
export const EVENTS: Snippet = snippet(
  ["emit", "emitTo", "emitMany", "emitGrouped", "eventsOf", "flushEvents", "jstr", "jstrs"],
  [FMT],
  `
local evStreams, evOrder, evQueues = {}, {}, {}
-- Per buffered list: how many events it holds, and the rows that hold more
-- than one (row index -> events).
local evCount, evSizes = {}, {}
-- The list of events buffered for the stream under key base sb.
local function listOf(sb)
  local l = evStreams[sb]
  if l == nil then
    l = {}
    evStreams[sb] = l
    evOrder[#evOrder + 1] = sb
    evCount[l] = 0
  end
  return l
end
local function emitTo(sb, text)
  if eventBacklog == 0 then return end
  local l = listOf(sb)
  l[#l + 1] = text
  evCount[l] = evCount[l] + 1
end
-- Queue q's list (nil when events are off).
local function eventsOf(q)
  if eventBacklog == 0 then return nil end
  local l = evQueues[q]
  if l == nil then
    l = listOf(base .. 'q:' .. q .. ':')
    evQueues[q] = l
  end
  return l
end
-- A row that stands for k events (rows "E", "A" and "C": see ../event_codec.ts).
local function addRow(l, text, k)
  l[#l + 1] = text
  evCount[l] = evCount[l] + k
  if k ~= 1 then
    local sizes = evSizes[l]
    if sizes == nil then
      sizes = {}
      evSizes[l] = sizes
    end
    sizes[#l] = k
  end
end
local function jstr(s)
  if string.find(s, '["\\\\%c]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end
local jstrs
-- Open groups by queue: consecutive events of one kind, written as one row
-- when another event comes for the queue or at the flush (order is kept).
local evGroups = {}
local function closeGroup(q)
  local g = evGroups[q]
  if g == nil then return end
  evGroups[q] = nil
  local row = '["' .. g.code .. '",' .. jstrs(g.ids)
  if g.nums then row = row .. ',[' .. table.concat(g.nums, ',') .. ']' end
  if g.tail ~= '' then row = row .. ',' .. g.tail end
  addRow(eventsOf(q), row .. ']', #g.ids)
end
-- Adds job id (and a number, when the kind has one) to q's open group of
-- kind code with the same tail (JSON after the lists), opening it if needed.
local function emitGrouped(q, code, id, num, tail)
  if eventBacklog == 0 then return end
  local g = evGroups[q]
  if g ~= nil and (g.code ~= code or g.tail ~= tail) then
    closeGroup(q)
    g = nil
  end
  if g == nil then
    g = { code = code, ids = {}, nums = num and {} or nil, tail = tail }
    evGroups[q] = g
  end
  g.ids[#g.ids + 1] = id
  if num then g.nums[#g.nums + 1] = num end
end
local function emit(q, text)
  local l = eventsOf(q)
  if l ~= nil then
    closeGroup(q)
    addRow(l, text, 1)
  end
end
-- One row that stands for k events.
local function emitMany(q, text, k)
  local l = eventsOf(q)
  if l == nil or k == 0 then return end
  closeGroup(q)
  addRow(l, text, k)
end
-- The strings of ids as one JSON array (cjson: C, and it escapes what needs it).
jstrs = function(ids)
  if #ids == 0 then return '[]' end
  return cjson.encode(ids)
end
local function flushEvents(now)
  for q in pairs(evGroups) do closeGroup(q) end
  for _, sb in ipairs(evOrder) do
    local l = evStreams[sb]
    local n = evCount[l]
    local sizes = evSizes[l] or {}
    local sk, ck = sb .. 'events', sb .. 'eseq'
    local last = redis.call('INCRBY', ck, n)
    if last == n and redis.call('EXISTS', sk) == 1 then
      -- The counter was lost but not the stream: go on from the stream's
      -- last id, so XADD never meets an id below the stream's top.
      local top = redis.call('XREVRANGE', sk, '+', '-', 'COUNT', 1)[1]
      if top then
        last = tonumber(string.match(top[1], '^(%d+)')) + n
        redis.call('SET', ck, fmt(last))
      end
    end
    -- Entries of about 200 events (a row is never split), each with the
    -- number of its last event as its id.
    local done = last - n
    local c, rows = 1, #l
    while c <= rows do
      local e, k = c, 0
      while e <= rows do
        k = k + (sizes[e] or 1)
        if k >= 200 then break end
        e = e + 1
      end
      if e > rows then e = rows end
      done = done + k
      local keep = done - eventBacklog + 1
      if keep < 1 then keep = 1 end
      redis.call('XADD', sk, 'MINID', '~', fmt(keep), fmt(done) .. '-0', 't', now,
        'e', '[' .. table.concat(l, ',', c, e) .. ']')
      c = e + 1
    end
  end
end
`,
);
