// Lua script DENIED_COMMANDS. KEYS[1]: the key it works on (see ARGV below); ARGV below. Includes
// no snippet: it does not use the key base.

/**
 * Error path only: which of the commands in ARGV the ACL user may not run
 * (with KEYS[1], a key of the slot, as their key), checked without running
 * them. Names that are not commands (a script's other upper-case words) are
 * skipped.
 *
 * @example
 * ```ts ignore
 * const loaded = loadScript("DENIED_COMMANDS", DENIED_COMMANDS); // run by EVALSHA (../scripts.ts)
 * ```
 */
export const DENIED_COMMANDS: string = `
local out = {}
for i = 1, #ARGV do
  local ok, allowed = pcall(redis.acl_check_cmd, ARGV[i], KEYS[1])
  if ok and not allowed then out[#out + 1] = ARGV[i] end
end
return out
`;
