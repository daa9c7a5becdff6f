/**
 * What a worker tells the registry about its process (`WorkerInfo.host`,
 * `pid`, `runtime`, `runtimeVersion`), found without any import and without
 * a permission prompt: Deno's host name is read only when the `sys`
 * permission for it is already granted.
 *
 * @module
 */

/** The process a worker runs in. */
export interface RuntimeInfo {
  /** The host name ("" when the runtime does not tell, or may not). */
  host: string;
  /** The process id (0 when unknown). */
  pid: number;
  /** "deno", "bun", "node" or "unknown". */
  runtime: string;
  /** The runtime's version ("" when unknown). */
  runtimeVersion: string;
}

interface DenoLike {
  pid?: number;
  version?: { deno?: string };
  hostname?: () => string;
  permissions?: { querySync?: (descriptor: { name: string; kind: string }) => { state: string } };
}

interface ProcessLike {
  pid?: number;
  versions?: { node?: string; bun?: string };
  getBuiltinModule?: (name: string) => { hostname?: () => string } | undefined;
}

let cached: RuntimeInfo | undefined;

/**
 * The process's runtime info, found once and then reused.
 *
 * @example
 * ```ts
 * import { runtimeInfo } from "./_runtime_info.ts";
 *
 * const info = runtimeInfo();
 * console.log(["deno", "bun", "node", "unknown"].includes(info.runtime)); // true
 * ```
 */
export function runtimeInfo(): RuntimeInfo {
  return cached ??= detect();
}

function detect(): RuntimeInfo {
  const global = globalThis as { Deno?: DenoLike; process?: ProcessLike; Bun?: unknown };
  const deno = global.Deno;
  if (deno?.version?.deno !== undefined) {
    return {
      host: attempt(() => {
        const state = deno.permissions?.querySync?.({ name: "sys", kind: "hostname" }).state;
        return state === "granted" ? deno.hostname?.() : undefined;
      }),
      pid: deno.pid ?? 0,
      runtime: "deno",
      runtimeVersion: deno.version.deno,
    };
  }
  const process = global.process;
  const versions = process?.versions;
  const runtime = versions?.bun !== undefined
    ? "bun"
    : versions?.node !== undefined
    ? "node"
    : "unknown";
  return {
    host: attempt(() => process?.getBuiltinModule?.("node:os")?.hostname?.()),
    pid: typeof process?.pid === "number" ? process.pid : 0,
    runtime,
    runtimeVersion: (runtime === "bun" ? versions?.bun : versions?.node) ?? "",
  };
}

/** What `read` returns when it is a string; "" when it throws or returns something else. */
function attempt(read: () => unknown): string {
  try {
    const value = read();
    return typeof value === "string" ? value : "";
  } catch {
    return "";
  }
}
