/**
 * What runs in a pool's thread or process: it imports a task's module by
 * URL, finds the task by name and runs its handler, one job at a time, with
 * a context whose `progress()` reports to the worker and whose `signal` the
 * worker aborts. A thread talks over its port; a process over stdin and
 * stdout (one JSON message per line), so its console output goes to stderr.
 *
 * The pools import this module so that builds include it; it starts only
 * where a pool started it (a thread given `workerData.taskmillChild`, or a
 * process with `TASKMILL_CHILD=process`), and does nothing elsewhere.
 *
 * @module
 */

import process from "node:process";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { findTask } from "../core/task_exports.ts";
import type { JsonValue, TaskContext } from "../core/task.ts";
import { errorData, type FromChild, type ToChild } from "./protocol.ts";

/** The environment variable that makes a process a pool's child. */
export const CHILD_ENV = "TASKMILL_CHILD";

/**
 * Whether this thread or process was started by a pool (then it serves it).
 *
 * @example
 * ```ts
 * import { childMode } from "./child.ts";
 * console.log(childMode()); // null: not started by a pool
 * ```
 */
export function childMode(): "thread" | "process" | null {
  if (!isMainThread && (workerData as { taskmillChild?: boolean } | null)?.taskmillChild) {
    return "thread";
  }
  if (isMainThread && process.env[CHILD_ENV] === "process") return "process";
  return null;
}

function serve(send: (message: FromChild) => void, onMessage: (f: (m: ToChild) => void) => void) {
  const running = new Map<number, AbortController>();
  const acks = new Map<number, () => void>();
  let reports = 0;
  onMessage((message) => {
    switch (message.t) {
      case "run":
        void run(message);
        break;
      case "abort":
        running.get(message.id)?.abort(new Error(message.reason));
        break;
      case "progressed":
        acks.get(message.n)?.();
        acks.delete(message.n);
        break;
    }
  });
  async function run(message: Extract<ToChild, { t: "run" }>): Promise<void> {
    const { id } = message;
    const controller = new AbortController();
    running.set(id, controller);
    let task;
    try {
      task = findTask(await import(message.module), message.name, message.module);
    } catch (error) {
      const data = errorData(error);
      running.delete(id);
      send({
        t: "done",
        id,
        ok: false,
        error: {
          name: "RunnerCrashError",
          message: `Task "${message.name}": its module ${message.module} did not load: ` +
            `${data.name}: ${data.message}`,
          ...(data.stack === undefined ? {} : { stack: data.stack }),
        },
      });
      return;
    }
    const ctx: TaskContext = {
      job: message.job,
      signal: controller.signal,
      progress: (value: JsonValue) =>
        new Promise<void>((resolve) => {
          const n = ++reports;
          acks.set(n, resolve);
          send({ t: "progress", id, n, value });
        }),
    };
    let outcome: FromChild;
    try {
      const value = await task.handler(message.payload, ctx);
      outcome = value === undefined
        ? { t: "done", id, ok: true }
        : { t: "done", id, ok: true, value };
    } catch (error) {
      outcome = { t: "done", id, ok: false, error: errorData(error) };
    }
    running.delete(id);
    try {
      send(outcome);
    } catch (error) {
      // A result that cannot be sent (not cloneable or not JSON) fails the attempt.
      send({ t: "done", id, ok: false, error: errorData(error) });
    }
  }
  send({ t: "ready" });
}

function serveThread(): void {
  const port = parentPort!;
  serve((m) => port.postMessage(m), (f) => port.on("message", f));
}

function serveProcess(): void {
  // stdout carries the messages: the handler's console output goes to stderr.
  for (const level of ["log", "info", "debug"] as const) console[level] = console.error;
  const out = process.stdout;
  const send = (m: FromChild) => void out.write(JSON.stringify(m) + "\n");
  serve(send, (f) => {
    let buffered = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      buffered += chunk;
      for (let cut = buffered.indexOf("\n"); cut >= 0; cut = buffered.indexOf("\n")) {
        const line = buffered.slice(0, cut);
        buffered = buffered.slice(cut + 1);
        if (line !== "") f(JSON.parse(line) as ToChild);
      }
    });
    // The pool (or its process) went away: so does this child.
    process.stdin.on("end", () => process.exit(0));
  });
}

const mode = childMode();
if (mode === "thread") serveThread();
else if (mode === "process") serveProcess();
