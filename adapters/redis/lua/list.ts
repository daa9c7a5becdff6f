// Lua script LIST. KEYS[1]: the slot's "{tag}:seq" (it routes the call); ARGV below, ARGV[1] being
// the key base "{tag}:". Includes (and what they need, see snippet.ts): FIELDS_LIST, JKEY, QKEY,
// MEMBER.

import { FIELDS_LIST } from "./fields.ts";
import { JKEY, QKEY } from "./keys.ts";
import { MEMBER } from "./seq.ts";
import { script } from "./snippet.ts";

/**
 * ARGV: base, queue, state, offset, limit. Returns a flat array: per job id,
 * FIELDS values. Active jobs are few (bounded by workers' concurrency), so
 * they are read whole and ordered by startedAt here.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("LIST", LIST); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const LIST: string = script(
  [FIELDS_LIST, JKEY, QKEY, MEMBER],
  `
local q, state = ARGV[2], ARGV[3]
local offset, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local ids = {}
if state == 'waiting' then
  -- The jobs without a group first, then each group's (by name).
  for _, m in ipairs(redis.call('ZRANGE', qkey(q, 'wait'), offset, offset + limit - 1)) do
    ids[#ids + 1] = memberId(m)
  end
  if #ids < limit and redis.call('EXISTS', qkey(q, 'flow')) == 1 then
    local skip = offset - redis.call('ZCARD', qkey(q, 'wait'))
    if skip < 0 then skip = 0 end
    for _, g in ipairs(redis.call('ZRANGE', qkey(q, 'groups'), 0, -1)) do
      if #ids >= limit then break end
      local gw = qkey(q, 'gw') .. ':' .. g
      local n = redis.call('ZCARD', gw)
      if skip >= n then
        skip = skip - n
      else
        for _, m in ipairs(redis.call('ZRANGE', gw, skip, skip + limit - #ids - 1)) do
          ids[#ids + 1] = memberId(m)
        end
        skip = 0
      end
    end
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
`,
);
