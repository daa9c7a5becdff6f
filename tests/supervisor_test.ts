// `taskmill worker --processes N` (the supervisor), `--max-failures` and
// `--runner`, end to end: real processes against a real redis-server, on
// the runtime that runs this file (Deno, Bun, or Node with the built package).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { startRedis } from "./_redis_server.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const RUNTIME = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SLOW = { timeout: 90_000 };

function cliCommand(): string[] {
  const main = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
  if (RUNTIME === "deno") return [process.execPath, "run", "-A", "--quiet", main];
  if (RUNTIME === "bun") return [process.execPath, main];
  return [process.execPath, fileURLToPath(import.meta.resolve("taskmill/cli"))];
}

const taskmillUrl = RUNTIME === "node"
  ? import.meta.resolve("taskmill")
  : new URL("../mod.ts", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "taskmill-sup-"));
const TASKS = join(dir, "tasks.mjs");
writeFileSync(
  TASKS,
  `import { createHash } from "node:crypto";
import { defineTask } from ${JSON.stringify(taskmillUrl)};
export const nap = defineTask({
  name: "nap",
  queue: "sup",
  handler: (ms, ctx) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(process.pid), ms);
    ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(ctx.signal.reason); });
  }),
});
export const doomed = defineTask({
  name: "doomed",
  queue: "sup",
  maxAttempts: 1,
  handler: () => { throw new Error("upstream down"); },
});
export const digest = defineTask({
  name: "digest",
  queue: "sup",
  handler: (text) => ({ hash: createHash("sha256").update(text).digest("hex"), pid: process.pid }),
});
`,
);

const redis = await startRedis();
const children = new Set<ChildProcess>();
let prefixes = 0;
after(async () => {
  for (const child of children) child.kill("SIGKILL");
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  out(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function runCli(args: string[], env: Record<string, string> = {}): Run {
  const [file, ...rest] = cliCommand();
  const child = spawn(file, [...rest, ...args], {
    cwd: ROOT,
    env: { ...process.env, TASKMILL_REDIS_URL: "", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  const checks = new Set<() => void>();
  const take = (chunk: Uint8Array) => {
    out += chunk.toString();
    for (const check of checks) check();
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      children.delete(child);
      for (const check of checks) check();
      resolve(code);
    })
  );
  return {
    child,
    out: () => out,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match !== null) {
            done();
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`exited before printing ${pattern}:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          checks.delete(check);
        };
        checks.add(check);
        check();
      });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `worker` with `flags`, the tasks module and the test server under `prefix`. */
function workerArgs(prefix: string, ...flags: string[]): string[] {
  return ["worker", ...flags, "--tasks", TASKS, "--redis-url", redis.url, "--prefix", prefix];
}

function storageFor(prefix: string) {
  const storage = new RedisStorage({ url: redis.url, prefix });
  return { storage, queue: new Queue({ storage }) };
}

describe(`the supervisor and worker process flags on ${RUNTIME}`, () => {
  test(
    "--processes 2: a SIGKILLed worker process is restarted; SIGTERM stops all, no job lost",
    SLOW,
    async () => {
      const prefix = `sup${process.pid}x${++prefixes}`;
      const { storage, queue } = storageFor(prefix);
      const run = runCli(
        workerArgs(prefix, "--processes", "2", "--concurrency", "2", "--lease-ms", "1500"),
      );
      const first = Number((await run.waitFor(/started worker process 1 \(pid (\d+)\)/))[1]);
      await run.waitFor(/started worker process 2 \(pid (\d+)\)/);
      await run.waitFor(/worker \S+ started on .*\n(.|\n)*worker \S+ started on /);
      const { nap } = await import(TASKS);
      const jobs = await queue.enqueueMany(nap, Array.from({ length: 40 }, () => 50));
      process.kill(first, "SIGKILL");
      await run.waitFor(/worker process 1 \(pid \d+\) was killed by SIGKILL/);
      await run.waitFor(/restarting worker process 1 in 500ms/);
      const restarted = new RegExp(`started worker process 1 \\(pid (?!${first}\\))(\\d+)\\)`);
      const again = Number((await run.waitFor(restarted))[1]);
      assert.notEqual(again, first);
      await until("every job completed", async () => (await queue.counts("sup")).completed === 40);
      // Jobs the killed process held ran again after their leases expired.
      for (const job of jobs) assert.equal((await queue.getJob(job.id))?.state, "completed");
      const second = Number(/started worker process 2 \(pid (\d+)\)/.exec(run.out())![1]);
      process.kill(run.child.pid!, "SIGTERM");
      assert.equal(await run.exited, 0, run.out());
      assert.match(run.out(), /every worker process stopped/);
      assert.equal(alive(again), false);
      assert.equal(alive(second), false);
      await storage.close();
    },
  );

  test(
    "SIGTERM while jobs run: each finishes or is handed back, none lost or left active",
    SLOW,
    async () => {
      const prefix = `sup${process.pid}x${++prefixes}`;
      const { storage, queue } = storageFor(prefix);
      const run = runCli(
        workerArgs(prefix, "--processes", "2", "--concurrency", "2", "--stop-timeout", "100"),
      );
      await run.waitFor(/worker \S+ started on .*\n(.|\n)*worker \S+ started on /);
      const { nap } = await import(TASKS);
      await queue.enqueueMany(nap, Array.from({ length: 30 }, () => 400));
      await until("a job completed", async () => (await queue.counts("sup")).completed > 0);
      process.kill(run.child.pid!, "SIGTERM");
      assert.equal(await run.exited, 0, run.out());
      const counts = await queue.counts("sup");
      assert.equal(counts.active, 0, `every running job was handed back:\n${run.out()}`);
      assert.equal(counts.completed + counts.waiting, 30, JSON.stringify(counts));
      assert.equal(counts.failed, 0);
      await storage.close();
    },
  );

  test(
    "--autoscale 1:3 adds processes while jobs wait and retires them when idle, down to MIN",
    SLOW,
    async () => {
      const prefix = `sup${process.pid}x${++prefixes}`;
      const { storage, queue } = storageFor(prefix);
      // Checks every 200 ms instead of 5 s, so three idle checks take 0.6 s.
      const run = runCli(
        workerArgs(prefix, "--autoscale", "1:3", "--concurrency", "2", "--queues", "sup"),
        { TASKMILL_AUTOSCALE_MS: "200" },
      );
      await run.waitFor(/worker \S+ started on /);
      assert.doesNotMatch(run.out(), /started worker process 2/, "MIN processes at first");
      const { nap } = await import(TASKS);
      await queue.enqueueMany(nap, Array.from({ length: 80 }, () => 100));
      await run.waitFor(/jobs waiting for 1 process\(es\): adding one/);
      await run.waitFor(/jobs waiting for 2 process\(es\): adding one/);
      await run.waitFor(/started worker process 3 /);
      await until("every job completed", async () => (await queue.counts("sup")).completed === 80);
      await run.waitFor(/idle: stopping worker process 3/);
      await run.waitFor(/idle: stopping worker process 2/);
      // Never below MIN, and never more than MAX.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.doesNotMatch(run.out(), /idle: stopping worker process 1|started worker process 4/);
      assert.doesNotMatch(run.out(), /restarting worker process/, "a retired one stays stopped");
      process.kill(run.child.pid!, "SIGTERM");
      assert.equal(await run.exited, 0, run.out());
      await storage.close();
    },
  );

  test(
    "--max-failures N stops a worker after N failed attempts in a row, with exit code 3",
    SLOW,
    async () => {
      const prefix = `sup${process.pid}x${++prefixes}`;
      const { storage, queue } = storageFor(prefix);
      const { doomed } = await import(TASKS);
      await queue.enqueueMany(doomed, [1, 2, 3, 4, 5]);
      const run = runCli(
        workerArgs(prefix, "--max-failures", "2", "--concurrency", "1", "--prefetch", "0"),
      );
      assert.equal(await run.exited, 3, run.out());
      assert.match(
        run.out(),
        /stopping: 2 failed attempts in a row \(maxFailures 2\); the last: Error: upstream down/,
      );
      assert.equal((await queue.counts("sup")).failed, 2);
      await storage.close();
    },
  );

  test("--runner process runs handlers in child processes of the worker", SLOW, async () => {
    const prefix = `sup${process.pid}x${++prefixes}`;
    const { storage, queue } = storageFor(prefix);
    const { digest } = await import(TASKS);
    const run = runCli(workerArgs(prefix, "--runner", "process", "--pool-size", "1"));
    await run.waitFor(/worker \S+ started on .*runner process/);
    const job = await queue.enqueue(digest, "abc");
    const result = await queue.result(job.id, { timeout: 30_000 }) as { hash: string; pid: number };
    assert.equal(result.hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.notEqual(result.pid, run.child.pid, "not the worker's own process");
    process.kill(run.child.pid!, "SIGTERM");
    assert.equal(await run.exited, 0, run.out());
    await storage.close();
  });

  test("bad supervisor and runner flags are usage errors", SLOW, async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--processes", "0", "--redis-url", redis.url],
        /--processes must be auto or a whole number/,
      ],
      [["--processes", "2"], /needs a storage that outlives this process/],
      [["--autoscale", "3:1", "--redis-url", redis.url], /--autoscale must be MIN:MAX/],
      [["--runner", "fiber"], /--runner must be inline, thread or process/],
      [["--pool-size", "2"], /--pool-size needs --runner thread or process/],
    ];
    for (const [args, message] of cases) {
      const run = runCli(["worker", "--tasks", TASKS, ...args]);
      assert.equal(await run.exited, 2, `${args.join(" ")}: ${run.out()}`);
      assert.match(run.out(), message);
    }
  });
});
