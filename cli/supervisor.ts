/**
 * `taskmill worker --processes N` (or `auto`, one per core) and `--autoscale
 * MIN:MAX`: a supervisor that runs worker processes (each a `taskmill
 * worker` with the same flags), restarts one that dies, scales their number
 * by backlog, and stops them all gracefully on SIGTERM or SIGINT.
 *
 * - **Restarts**: after 0.5 s, doubling with each restart of that process
 *   in the last minute (at most 30 s); more than 10 in a minute and it
 *   waits until the oldest is a minute old. A worker that stopped after
 *   `--max-failures` (exit code 3) is restarted only after a minute.
 * - **Autoscale** (every 5 s): one more process while the waiting jobs of
 *   its queues outnumber the running processes times their concurrency;
 *   one fewer (the newest, stopped gracefully) after 3 checks in a row (15
 *   s) with no job waiting or active, never outside MIN:MAX.
 * - **Stop**: SIGTERM or SIGINT is passed to every worker once; those still
 *   running `--stop-timeout` + 5 s later are killed. A second signal kills
 *   them at once. A worker also stops when the supervisor's end closes its
 *   stdin, so a killed supervisor leaves no worker behind.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import * as rt from "./_runtime.ts";
import { UsageError } from "./errors.ts";
import { COMMAND_FLAGS, type FlagValues } from "./flags.ts";
import { escapeText, redact } from "./output.ts";
import { openTarget, requireTarget, secretOf } from "./storage.ts";

/** Exit code of a worker stopped by `--max-failures` (see commands/worker.ts). */
const MAX_FAILURES_EXIT = 3;
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WINDOW = 10;
const STOP_MARGIN_MS = 5_000;
const IDLE_CHECKS = 3;

interface Slot {
  n: number;
  child: ChildProcess | undefined;
  restarts: number[];
  timer: ReturnType<typeof setTimeout> | undefined;
  retired: boolean;
}

/**
 * Runs the worker processes `flags` ask for until a stop signal; resolves
 * to 0 once they have all exited.
 *
 * @example
 * ```ts ignore
 * const code = await supervise({ tasks: "./tasks.ts", processes: "2", "redis-url": url });
 * ```
 */
export async function supervise(flags: FlagValues): Promise<number> {
  const target = requireTarget(flags, "worker --processes");
  const url = secretOf(target);
  const [min, max] = processRange(flags);
  const stopTimeout = (flags["stop-timeout"] as number | undefined) ?? 30_000;
  const concurrency = (flags.concurrency as number | undefined) ?? 10;
  const args = childArgs(flags);
  const log = (message: string) =>
    rt.out(`${new Date().toISOString()} info  supervisor: ${escapeText(redact(message, url))}`);
  const slots: Slot[] = [];
  let stopping = false;
  let exited!: () => void;
  const allExited = new Promise<void>((resolve) => (exited = resolve));
  const live = () => slots.filter((s) => !s.retired);
  const checkDone = () => {
    if (stopping && slots.every((s) => s.child === undefined)) exited();
  };

  const start = (slot: Slot) => {
    slot.timer = undefined;
    const child = spawn(rt.execPath(), args, {
      stdio: ["pipe", "inherit", "inherit"],
      env: { ...rt.environment(), TASKMILL_SUPERVISED: "1" },
    });
    slot.child = child;
    log(`started worker process ${slot.n} (pid ${child.pid})`);
    child.stdin?.on("error", () => {}); // a dead child's pipe: its exit says why
    child.on("exit", (code, signal) => {
      slot.child = undefined;
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      log(`worker process ${slot.n} (pid ${child.pid}) ${how}`);
      if (stopping || slot.retired) return checkDone();
      const now = Date.now();
      slot.restarts = slot.restarts.filter((at) => at > now - RESTART_WINDOW_MS);
      let delay = Math.min(30_000, 500 * 2 ** slot.restarts.length);
      if (code === MAX_FAILURES_EXIT) delay = RESTART_WINDOW_MS;
      if (slot.restarts.length >= MAX_RESTARTS_PER_WINDOW) {
        delay = Math.max(delay, slot.restarts[0] + RESTART_WINDOW_MS - now);
      }
      slot.restarts.push(now + delay);
      log(
        `restarting worker process ${slot.n} in ${delay}ms` +
          (code === MAX_FAILURES_EXIT ? " (it stopped after --max-failures)" : ""),
      );
      slot.timer = setTimeout(() => start(slot), delay);
    });
  };
  const add = () => {
    const slot: Slot = {
      n: slots.length + 1,
      child: undefined,
      restarts: [],
      timer: undefined,
      retired: false,
    };
    slots.push(slot);
    start(slot);
  };
  const retire = (slot: Slot) => {
    slot.retired = true;
    clearTimeout(slot.timer);
    slot.child?.kill("SIGTERM");
  };

  for (let i = 0; i < min; i++) add();
  log(
    `supervising ${min} worker process(es)` +
      (min === max ? "" : `, autoscaling between ${min} and ${max}`),
  );

  let scaler: ReturnType<typeof setInterval> | undefined;
  let closeStorage: (() => Promise<void>) | undefined;
  if (min < max) {
    const { storage } = await openTarget(target);
    closeStorage = () => storage.close().catch(() => {});
    const queues = flags.queues as string[] | undefined;
    let idleChecks = 0;
    const interval = Number(rt.env("TASKMILL_AUTOSCALE_MS") ?? 5_000);
    scaler = setInterval(async () => {
      if (stopping) return;
      try {
        const names = queues ?? (await storage.queues()).map((q) => q.name);
        let waiting = 0;
        let active = 0;
        for (const name of names) {
          const counts = await storage.counts(name);
          waiting += counts.waiting;
          active += counts.active;
        }
        const running = live();
        idleChecks = waiting === 0 && active === 0 ? idleChecks + 1 : 0;
        if (waiting > running.length * concurrency && running.length < max) {
          log(`${waiting} jobs waiting for ${running.length} process(es): adding one`);
          add();
        } else if (idleChecks >= IDLE_CHECKS && running.length > min) {
          idleChecks = 0;
          const newest = running[running.length - 1];
          log(`idle: stopping worker process ${newest.n}`);
          retire(newest);
        }
      } catch (error) {
        log(`autoscale check failed: ${(error as Error).message}`);
      }
    }, interval);
  }

  const removeSignals = rt.onStopSignal((signal) => {
    if (stopping) {
      log(`${signal} again: killing every worker process`);
      for (const slot of slots) slot.child?.kill("SIGKILL");
      rt.exit(1);
    }
    stopping = true;
    clearInterval(scaler);
    log(`${signal}: stopping every worker process (up to ${stopTimeout}ms for running jobs)`);
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.child?.kill("SIGTERM");
    }
    setTimeout(() => {
      for (const slot of slots) {
        if (slot.child === undefined) continue;
        log(`worker process ${slot.n} did not stop in time: killing it`);
        slot.child.kill("SIGKILL");
      }
    }, stopTimeout + STOP_MARGIN_MS).unref?.();
    checkDone();
  });
  await allExited;
  removeSignals();
  await closeStorage?.();
  log("every worker process stopped");
  return 0;
}

/** The MIN and MAX number of processes from --processes N|auto or --autoscale MIN:MAX. */
function processRange(flags: FlagValues): [number, number] {
  const processes = flags.processes as string | undefined;
  const autoscale = flags.autoscale as string | undefined;
  if (processes !== undefined && autoscale !== undefined) {
    throw new UsageError("give --processes or --autoscale, not both");
  }
  if (autoscale !== undefined) {
    const match = /^(\d+):(\d+)$/.exec(autoscale);
    const [lo, hi] = match === null ? [NaN, NaN] : [Number(match[1]), Number(match[2])];
    if (!(lo >= 1 && hi >= lo && hi <= 1024)) {
      throw new UsageError(
        `--autoscale must be MIN:MAX with 1 <= MIN <= MAX <= 1024, got "${autoscale}"`,
      );
    }
    return [lo, hi];
  }
  const n = processes === "auto" ? availableParallelism() : Number(processes);
  if (!/^(auto|\d+)$/.test(processes!) || !(n >= 1 && n <= 1024)) {
    throw new UsageError(`--processes must be auto or a whole number 1-1024, got "${processes}"`);
  }
  return [n, n];
}

/** The runtime's arguments that run `taskmill worker` with these flags, less the supervisor's. */
function childArgs(flags: FlagValues): string[] {
  const spec = COMMAND_FLAGS.worker;
  const out = ["worker"];
  for (const [name, value] of Object.entries(flags)) {
    if (name === "processes" || name === "autoscale" || value === undefined) continue;
    if (spec[name] === "bool") out.push(`--${name}`);
    else if (Array.isArray(value)) out.push(`--${name}`, value.join(","));
    else out.push(`--${name}`, String(value));
  }
  const main = fileURLToPath(
    new URL(import.meta.url.endsWith(".ts") ? "./main.ts" : "./main.js", import.meta.url),
  );
  const runtime = rt.runtimeName();
  if (runtime.startsWith("deno")) return ["run", "-A", main, ...out];
  if (runtime.startsWith("bun")) return [main, ...out];
  const [major, minor] = rt.nodeVersion();
  const strip = main.endsWith(".ts") && (major < 23 || (major === 23 && minor < 6))
    ? ["--experimental-strip-types"]
    : [];
  return [...strip, main, ...out];
}
