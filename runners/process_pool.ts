/**
 * `processPool`: handlers in child processes of the same runtime.
 *
 * @module
 */

import { spawn as spawnProcess } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { CHILD_ENV } from "./child.ts";
import { CHILD_URL } from "./child_url.ts";
import { Pool, type Spawn } from "./pool.ts";
import { type PoolOptions, readPoolOptions, runtimeName } from "./pool_options.ts";
import type { FromChild } from "./protocol.ts";

/**
 * A runner whose handlers run in a pool of child processes, started with
 * the worker's own runtime (`deno run -A`, `bun`, `node`): memory of their
 * own, a heap limit per process (`maxMemoryMb`: V8's --max-old-space-size
 * on Node and Deno; refused on Bun, which has no such flag), and a crash
 * that takes only its process. Messages go over the child's stdin and
 * stdout, so a handler's console output there goes to stderr.
 *
 * @example
 * ```ts ignore
 * import { Worker } from "@taskmill/taskmill";
 * import { processPool } from "@taskmill/taskmill/runners";
 * import { MemoryStorage } from "@taskmill/taskmill/memory";
 * import { resize } from "./tasks.ts"; // defined with module: import.meta.url
 *
 * const pool = processPool({ size: 2, maxTasksPerChild: 100, maxMemoryMb: 512 });
 * const worker = new Worker({ storage: new MemoryStorage(), tasks: [resize], runner: pool });
 * ```
 */
export function processPool(options: PoolOptions = {}): Pool {
  const settings = readPoolOptions(options, "processPool");
  const runtime = runtimeName();
  if (settings.maxMemoryMb !== undefined && runtime === "Bun") {
    throw new RangeError(
      "Cannot create processPool: maxMemoryMb is not supported on Bun, whose JavaScriptCore " +
        "has no heap-size flag; run the worker on Node or Deno for a per-process heap limit",
    );
  }
  const args = childArgs(runtime, settings.maxMemoryMb);
  const spawn: Spawn = (events) => {
    const child = spawnProcess(process.execPath, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, [CHILD_ENV]: "process" },
    });
    let buffered = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      for (let cut = buffered.indexOf("\n"); cut >= 0; cut = buffered.indexOf("\n")) {
        const line = buffered.slice(0, cut);
        buffered = buffered.slice(cut + 1);
        if (line !== "") events.message(JSON.parse(line) as FromChild);
      }
    });
    // Its stderr is passed on; the tail is kept to tell an out-of-memory death.
    let tail = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      process.stderr.write(chunk);
      tail = (tail + chunk).slice(-4096);
    });
    let spawnError: string | undefined;
    child.on("error", (error) => spawnError ??= `it could not start: ${error.message}`);
    child.stdin!.on("error", () => {}); // a dead child's pipe: its exit says why
    child.on("close", (code, signal) => {
      const oom = /out of memory/i.test(tail);
      events.exit(
        spawnError ??
          (oom
            ? `it ran out of memory (maxMemoryMb ${settings.maxMemoryMb ?? "not set"})`
            : signal !== null
            ? `it was killed by ${signal}`
            : `it exited with code ${code}`),
      );
    });
    const pipes = [child.stdin, child.stdout, child.stderr] as unknown as {
      ref?(): void;
      unref?(): void;
    }[];
    return {
      send: (message) => void child.stdin!.write(JSON.stringify(message) + "\n"),
      kill: () => void child.kill("SIGKILL"),
      ref: () => {
        child.ref();
        for (const pipe of pipes) pipe.ref?.();
      },
      unref: () => {
        child.unref();
        for (const pipe of pipes) pipe.unref?.();
      },
    };
  };
  return new Pool("process", spawn, settings);
}

/** The runtime's arguments that run the child entry (with a heap limit if asked). */
function childArgs(runtime: "Deno" | "Bun" | "Node", maxMemoryMb: number | undefined): string[] {
  const entry = fileURLToPath(CHILD_URL);
  if (runtime === "Deno") {
    const heap = maxMemoryMb === undefined
      ? []
      : [`--v8-flags=--max-old-space-size=${maxMemoryMb}`];
    return ["run", "-A", "--quiet", ...heap, entry];
  }
  if (runtime === "Bun") return [entry];
  const heap = maxMemoryMb === undefined ? [] : [`--max-old-space-size=${maxMemoryMb}`];
  // Node runs .ts sources (a checkout, not the npm build) by stripping types: a flag before 23.6.
  const [major, minor] = process.versions.node.split(".").map(Number);
  const strip = entry.endsWith(".ts") && (major < 23 || (major === 23 && minor < 6))
    ? ["--experimental-strip-types"]
    : [];
  return [...strip, ...heap, entry];
}
