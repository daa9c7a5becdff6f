// Lua script FORGET_STALE. KEYS[1]: the key it works on (see ARGV below); ARGV below. Includes no
// snippet: it does not use the key base.

/**
 * KEYS[1]: the id index. ARGV: "", then pairs id, queue: deletes each entry
 * that still names that queue (one changed since it was checked is kept).
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("FORGET_STALE", FORGET_STALE); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const FORGET_STALE: string = `
local key = KEYS[1]
for i = 2, #ARGV, 2 do
  if redis.call('HGET', key, ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', key, ARGV[i]) end
end
return 0
`;
