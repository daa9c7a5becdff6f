// Lua script CLAIM_IDS. KEYS[1]: the key it works on (see ARGV below); ARGV below. Includes no
// snippet: it does not use the key base.

/**
 * For per-queue tags: the id index (id -> queue) lives under the prefix's own
 * tag. ARGV: base, then id, queue pairs. Claims each free id for its queue and
 * returns, per id, the queue that owns it.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("CLAIM_IDS", CLAIM_IDS); // run by EVALSHA (../scripts.ts)
 * ```
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
