// Tasks that the runner tests run in threads and processes: the worker and
// the pool's children both import this module (each task names it as its
// `module`), as a user's tasks module would be.
import process from "node:process";
import { createHash } from "node:crypto";
import { threadId } from "node:worker_threads";
import { defineTask, UnrecoverableError } from "../../mod.ts";

const module = import.meta.url;

/** Hashes `rounds` times: about 20 ms of CPU at 20 000 rounds. */
export function burn(rounds: number): string {
  let digest = "seed";
  for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex");
  return digest;
}

export const echo = defineTask({
  name: "cpu_echo",
  queue: "cpu",
  module,
  handler: (payload: { n: number }, ctx) => ({
    n: payload.n,
    attempt: ctx.job.attempt,
    jobId: ctx.job.id,
    pid: process.pid,
    thread: threadId,
  }),
});

export const hash = defineTask({
  name: "cpu_hash",
  queue: "cpu",
  module,
  handler: (payload: { rounds: number }) => burn(payload.rounds),
});

/** Hashes for `ms` of CPU time, never yielding (a synchronous CPU-bound job). */
export const spin = defineTask({
  name: "cpu_spin",
  queue: "cpu",
  module,
  handler: (payload: { ms: number }) => {
    const start = performance.now();
    let rounds = 0;
    while (performance.now() - start < payload.ms) rounds += burn(100).length;
    return rounds;
  },
});

export const steps = defineTask({
  name: "cpu_steps",
  queue: "cpu",
  module,
  handler: async (_: null, ctx) => {
    for (const step of [25, 50, 100]) await ctx.progress(step);
    return "stepped";
  },
});

export const throws = defineTask({
  name: "cpu_throws",
  queue: "cpu",
  module,
  maxAttempts: 2,
  retry: () => 0,
  handler: (payload: { unrecoverable?: boolean }) => {
    if (payload.unrecoverable) throw new UnrecoverableError("never again");
    throw new RangeError("bad input in the child");
  },
});

/** Spins until its signal aborts (it looks at it), then says so. */
export const polite = defineTask({
  name: "cpu_polite",
  queue: "cpu",
  module,
  timeout: 200,
  maxAttempts: 1,
  handler: async (_: null, ctx) => {
    while (!ctx.signal.aborted) await new Promise((r) => setTimeout(r, 5));
    throw new Error(`saw the abort: ${(ctx.signal.reason as Error).message}`);
  },
});

/** A busy loop that never looks at its signal. */
export const stubborn = defineTask({
  name: "cpu_stubborn",
  queue: "cpu",
  module,
  timeout: 300,
  maxAttempts: 1,
  handler: () => {
    for (;;) burn(1_000);
  },
});

export const exits = defineTask({
  name: "cpu_exits",
  queue: "cpu",
  module,
  maxAttempts: 1,
  handler: () => {
    // In a thread this ends the thread; in a process, the process.
    process.exit(7);
  },
});

/** Grows its heap until a heap limit ends it. */
export const hog = defineTask({
  name: "cpu_hog",
  queue: "cpu",
  module,
  maxAttempts: 1,
  handler: () => {
    const kept: number[][] = [];
    for (;;) kept.push(new Array(1_000_000).fill(kept.length));
  },
});
