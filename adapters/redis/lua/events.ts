// Lua snippet EVENTS: the event streams (see ../events.ts for the reading side).

import { FMT } from "./fmt.ts";
import { type Snippet, snippet } from "./snippet.ts";

/**
 * `emit(q, text)` buffers one event (a JSON array, see ../event_codec.ts)
 * for queue `q`'s stream, `emitTo(streamBase, text)` for any stream (the
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
  ["emit", "emitTo", "flushEvents", "jstr"],
  [FMT],
  `
local evStreams, evOrder = {}, {}
local function emitTo(sb, text)
  if eventBacklog == 0 then return end
  local l = evStreams[sb]
  if l == nil then
    l = {}
    evStreams[sb] = l
    evOrder[#evOrder + 1] = sb
  end
  l[#l + 1] = text
end
local function emit(q, text) emitTo(base .. 'q:' .. q .. ':', text) end
local function jstr(s)
  if string.find(s, '["\\\\%c]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end
local function flushEvents(now)
  for _, sb in ipairs(evOrder) do
    local l = evStreams[sb]
    local n = #l
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
    local first = last - n + 1
    local c = 1
    while c <= n do
      local e = c + 199
      if e > n then e = n end
      local id = first + e - 1
      local keep = id - eventBacklog + 1
      if keep < 1 then keep = 1 end
      redis.call('XADD', sk, 'MINID', '~', fmt(keep), fmt(id) .. '-0', 't', now,
        'e', '[' .. table.concat(l, ',', c, e) .. ']')
      c = e + 1
    end
  end
end
`,
);
