// The tasks module the graceful-stop test (tests/bad_input_stop_test.ts) gives to
// the `taskmill worker --tasks` CLI. Env: REDIS_URL, PREFIX, WORKER_ID (put in
// each result), FAST ("1": return at once instead of sleeping `payload.ms`).
// Every handler start is pushed to `<prefix>:test:started`; handlers honour
// ctx.signal, so a job aborted by the worker's stop rejects at once.
import process from "node:process";
import { Redis } from "ioredis";
import { defineTask } from "../../mod.ts";

const env = process.env;
const prefix = env.PREFIX ?? "taskmill";
const label = env.WORKER_ID ?? `w${process.pid}`;
const recorder = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
recorder.on("error", () => {});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** The "work" task: sleeps `payload.ms` (unless FAST=1), then returns who ran it. */
export const work = defineTask({
  name: "work",
  maxAttempts: 5,
  handler: async (payload: { ms: number }, ctx) => {
    await recorder.rpush(`${prefix}:test:started`, `${ctx.job.id} ${ctx.job.attempt} ${label}`);
    if (env.FAST !== "1") await sleep(payload.ms, ctx.signal);
    return { by: label };
  },
});

/** Closes the connection the handlers record on (for a worker process that exits). */
export function closeRecorder(): void {
  recorder.disconnect();
}
