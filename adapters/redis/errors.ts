/**
 * Redis failures as {@linkcode StorageError}s: the password redacted, and
 * for ACL refusals the command and the grant that fixes it up front (Redis's
 * own text for a script names neither).
 *
 * @module
 */

import { StorageError } from "../../core/errors.ts";
import { redactRedisUrl } from "./redact.ts";
import type { LoadedScript } from "./scripts.ts";
import { DENIED_COMMANDS } from "./lua/denied_commands.ts";

/**
 * Commands an ACL user was refused; `sure` false: one of them (which could
 * not be told).
 *
 * @example
 * ```ts ignore
 * const denied: Denied = { commands: ["zadd"], sure: true };
 * ```
 */
export interface Denied {
  commands: readonly string[];
  sure: boolean;
}

/**
 * `Cannot <what>: <cause>` as a StorageError, the password in `secret`
 * redacted, naming the refused commands and their ACL grant for `user`.
 *
 * @example
 * ```ts ignore
 * throw storageError("pause queue", error, secret, "app");
 * ```
 */
export function storageError(
  what: string,
  cause: unknown,
  secret: string | undefined,
  user: () => string,
  denied?: Denied,
): StorageError {
  const raw = cause instanceof Error ? cause.message : String(cause);
  const message = redactRedisUrl(raw, secret);
  let safeCause: unknown = cause;
  if (message !== raw || !(cause instanceof Error)) {
    safeCause = new Error(message);
    (safeCause as Error).name = cause instanceof Error ? cause.name : "Error";
  }
  const direct = /no permissions to run the '([^']+)' command/.exec(raw);
  const refused = denied ?? (direct ? { commands: [direct[1]], sure: true } : undefined);
  if (refused !== undefined && refused.commands.length > 0) {
    const name = user();
    const { commands, sure } = refused;
    const names = commands.map((c) => c.toUpperCase()).join(", ");
    const grants = commands.map((c) => `+${c.toLowerCase()}`).join(" ");
    const them = commands.length > 1 ? "them" : "it";
    return new StorageError(
      `Cannot ${what}: the Redis user "${name}" may not run ${sure ? "" : "one of "}${names}; ` +
        `grant ${them} with ACL SETUSER ${name} ${grants} (${message})`,
      { cause: safeCause },
    );
  }
  return new StorageError(`Cannot ${what}: ${message}`, { cause: safeCause });
}

/** The Redis commands a script's Lua calls (directly, or through its batching helpers). */
function commandsOf(lua: string): string[] {
  const found = new Set<string>();
  for (const match of lua.matchAll(/(?:redis\.p?call|defer|callMany)\('([A-Z]+)'/g)) {
    found.add(match[1]);
  }
  return [...found];
}

/**
 * After a script failed because the ACL user may not run one of its
 * commands: which ones (Redis 7's `redis.acl_check_cmd`, which checks
 * without running), or every command the script uses when that cannot be
 * told (older Redis).
 *
 * @example
 * ```ts ignore
 * const denied = await deniedCommands(evalScript, SCRIPTS.settle, "{taskmill}:seq");
 * ```
 */
export async function deniedCommands(
  evalScript: (lua: string, key: string, args: readonly string[]) => Promise<unknown>,
  script: LoadedScript,
  key: string,
): Promise<Denied> {
  const candidates = commandsOf(script.lua);
  try {
    const denied = await evalScript(DENIED_COMMANDS, key, candidates);
    if (Array.isArray(denied) && denied.length > 0) return { commands: denied, sure: true };
  } catch { /* no redis.acl_check_cmd (Redis < 7): name them all */ }
  return { commands: candidates, sure: false };
}
