// Lua scripts of the worker registry. KEYS[1]: the slot's "{tag}:seq" of the id index's tag
// "{prefix}" (it routes the call); ARGV below, ARGV[1] being the key base "{prefix}:". Includes
// (and what they need, see snippet.ts): EXPIRE_WORKERS, EVENTS.

import { EVENTS } from "./events.ts";
import { script, type Snippet, snippet } from "./snippet.ts";

/**
 * `expireWorkers(now)`: removes the registrations whose expiry is at or
 * before `now`, each with an `offline` event (reason "expired"). Keys:
 * `w:info` (hash id → info JSON), `w:exp` (sorted set id → expiry), the
 * stream under `w:`.
 *
 * @example
 * ```ts ignore
 * const lua = script([EXPIRE_WORKERS], `expireWorkers(ARGV[2]) flushEvents(ARGV[2])`);
 * ```
 */
export const EXPIRE_WORKERS: Snippet = snippet(
  ["expireWorkers", "infoKey", "expKey", "workerStream"],
  [EVENTS],
  `
local infoKey, expKey, workerStream = base .. 'w:info', base .. 'w:exp', base .. 'w:'
local function expireWorkers(now)
  local gone = redis.call('ZRANGEBYSCORE', expKey, '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(gone) do
    local info = redis.call('HGET', infoKey, id)
    redis.call('HDEL', infoKey, id)
    redis.call('ZREM', expKey, id)
    if info then emitTo(workerStream, '["d",' .. info .. ',1]') end
  end
end
`,
);

/**
 * ARGV: base, now, kind ("o" online, "h" heartbeat), id, info JSON,
 * expiresAt. Expires the silent workers, then records this one with its
 * event. Returns 1.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("REGISTER_WORKER", REGISTER_WORKER);
 * ```
 */
export const REGISTER_WORKER: string = script(
  [EXPIRE_WORKERS, EVENTS],
  `
expireWorkers(ARGV[2])
redis.call('HSET', infoKey, ARGV[4], ARGV[5])
redis.call('ZADD', expKey, ARGV[6], ARGV[4])
emitTo(workerStream, '["' .. ARGV[3] .. '",' .. ARGV[5] .. ']')
flushEvents(ARGV[2])
return 1
`,
);

/**
 * ARGV: base, now, id. Removes the registration with an `offline` event
 * (reason "stopped"). Returns 1 if it was there, else 0.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("UNREGISTER_WORKER", UNREGISTER_WORKER);
 * ```
 */
export const UNREGISTER_WORKER: string = script(
  [EXPIRE_WORKERS, EVENTS],
  `
local info = redis.call('HGET', infoKey, ARGV[3])
if not info then return 0 end
redis.call('HDEL', infoKey, ARGV[3])
redis.call('ZREM', expKey, ARGV[3])
emitTo(workerStream, '["d",' .. info .. ',0]')
flushEvents(ARGV[2])
return 1
`,
);

/**
 * ARGV: base, now. Expires the silent workers, then returns the info JSON
 * of every registered one.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("LIST_WORKERS", LIST_WORKERS);
 * ```
 */
export const LIST_WORKERS: string = script(
  [EXPIRE_WORKERS, EVENTS],
  `
expireWorkers(ARGV[2])
flushEvents(ARGV[2])
return redis.call('HVALS', infoKey)
`,
);
