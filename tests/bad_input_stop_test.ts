// Graceful stop under load: SIGTERM to a real worker process (a fixture, and
// the `taskmill worker` CLI) with 50 jobs in flight on a real redis-server:
// each job completes or is handed back, none is lost, and it exits 0.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { defineTask, type JobRecord, Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { startBadInputRedis, uniquePrefix, waitUntil } from "./_bad_input.ts";

const { server, admin } = await startBadInputRedis();

const runtimes = globalThis as { Deno?: unknown; Bun?: unknown };
const RUNTIME = runtimes.Deno !== undefined ? "deno" : runtimes.Bun !== undefined ? "bun" : "node";
const IS_DENO = RUNTIME === "deno";
const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
const fixture = (name: string) =>
  fileURLToPath(new URL(`./_fixtures/${name}${ext}`, import.meta.url));

interface Proc {
  child: ChildProcess;
  output: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function spawnProc(args: string[], env: Record<string, string>, ready: RegExp): Proc {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  let markReady!: () => void;
  const isReady = new Promise<void>((r) => (markReady = r));
  child.stdout!.on("data", (d: Uint8Array) => {
    output.push(String(d));
    if (ready.test(output.join(""))) markReady();
  });
  child.stderr!.on("data", (d: Uint8Array) => output.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, ready: isReady, exited };
}

/** Two ways to run a worker process: a fixture, and the `taskmill worker` CLI. */
const launchers: {
  name: string;
  start(env: Record<string, string>): Proc;
  stopped: RegExp;
}[] = [
  {
    name: "a worker process",
    start: (env) =>
      spawnProc(
        IS_DENO ? ["run", "-A", fixture("graceful_worker")] : [fixture("graceful_worker")],
        env,
        /ready/,
      ),
    stopped: /stopped \S+ completed=/,
  },
  {
    name: "the taskmill worker CLI",
    start(env) {
      const cli = RUNTIME === "node"
        ? fileURLToPath(import.meta.resolve("taskmill/cli"))
        : fileURLToPath(new URL("../cli/main.ts", import.meta.url));
      return spawnProc(
        [
          ...(IS_DENO ? ["run", "-A", "--quiet"] : []),
          cli,
          "worker",
          "--tasks",
          fixture("graceful_tasks"),
          "--redis-url",
          env.REDIS_URL,
          "--prefix",
          env.PREFIX,
          "--concurrency",
          env.CONCURRENCY,
          "--stop-timeout",
          env.STOP_TIMEOUT,
        ],
        env,
        /started on/,
      );
    },
    stopped: /worker \S+ stopped/,
  },
];

for (const launcher of launchers) {
  describe(`Graceful stop under load: SIGTERM to ${launcher.name} with 50 jobs in flight`, () => {
    test("each job completes or is handed back (waiting); none lost; exit 0", {
      timeout: 60_000,
    }, async () => {
      const prefix = uniquePrefix();
      const storage = new RedisStorage({ url: server.url, prefix });
      const queue = new Queue({ storage });
      const work = defineTask({ name: "work", handler: () => {} });
      const env = {
        REDIS_URL: server.url,
        PREFIX: prefix,
        CONCURRENCY: "50",
        STOP_TIMEOUT: "1500",
      };
      const first = launcher.start({ ...env, WORKER_ID: "first" });
      let second: Proc | undefined;
      try {
        await Promise.race([
          first.ready,
          first.exited.then(() => {
            throw new Error(`the worker exited early:\n${first.output.join("")}`);
          }),
        ]);
        // 30 finish within the stop timeout, 20 would run for a minute.
        const short = await queue.enqueueMany(
          work,
          Array.from({ length: 30 }, () => ({ ms: 400 })),
        );
        const long = await queue.enqueueMany(
          work,
          Array.from({ length: 20 }, () => ({ ms: 60_000 })),
        );
        await waitUntil(
          "50 jobs in flight",
          async () =>
            (await admin.llen(`${prefix}:test:started`)) === 50 &&
            (await queue.counts()).active === 50,
          15_000,
        );
        first.child.kill("SIGTERM");
        const code = await first.exited;
        const output = first.output.join("");
        assert.match(output, launcher.stopped, output);
        if (!IS_DENO) assert.equal(code, 0, output);

        const states = async (jobs: JobRecord[]) =>
          await Promise.all(jobs.map(async (j) => (await queue.getJob(j.id))?.state));
        assert.deepEqual(await states(short), short.map(() => "completed"));
        assert.deepEqual(await states(long), long.map(() => "waiting"), "handed back");
        assert.deepEqual(await queue.counts(), {
          waiting: 20,
          delayed: 0,
          active: 0,
          completed: 30,
          failed: 0,
        });
        for (const job of long) {
          const stored = await queue.getJob(job.id);
          assert.equal(stored?.error, undefined, "a hand-back is not a failure");
          assert.equal(stored?.stalls, 0);
          assert.equal(stored?.attempt, 0, "a hand-back does not count as an attempt");
        }

        // Nothing was lost: another worker picks the handed-back jobs up at once.
        second = launcher.start({ ...env, WORKER_ID: "second", FAST: "1" });
        await waitUntil(
          "the handed-back jobs to complete",
          async () => (await queue.counts()).completed === 50,
          15_000,
        );
        const byIds = await Promise.all(long.map((j) => queue.getJob(j.id)));
        assert.ok(byIds.every((j) => (j?.result as { by: string }).by === "second"));
      } finally {
        first.child.kill("SIGKILL");
        second?.child.kill("SIGTERM");
        await Promise.all([first.exited, second?.exited]);
        await storage.close();
      }
      const secondOutput = second!.output.join("");
      assert.match(secondOutput, launcher.stopped, secondOutput);
    });
  });
}
