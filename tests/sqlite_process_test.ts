// SqliteStorage across real processes on one file: three worker processes
// run each job exactly once, and a process SIGKILLed in the middle of an
// enqueue or a settle batch loses nothing acknowledged and leaves nothing
// half-applied. Real processes and real time (bounded).

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";
import { openDatabase } from "../adapters/sqlite/database.ts";
import type { NewJob } from "../core/storage.ts";

const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
const CHILD = fileURLToPath(new URL(`./sqlite_process_child${ext}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "taskmill-sqlite-process-"));
after(() => rmSync(dir, { recursive: true, force: true }));
/** Keeps every event of these tests, so each change can be matched with its event. */
const BACKLOG = 1_000_000;
const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

interface Child {
  child: ChildProcess;
  output: string[];
  /** Resolves once the output has a line matching `pattern`. */
  printed(pattern: RegExp): Promise<void>;
  exited: Promise<number | null>;
}

function spawnChild(env: Record<string, string>): Child {
  const args = IS_DENO ? ["run", "-A", CHILD] : [CHILD];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (data: Uint8Array) => {
    output.push(String(data));
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code, signal) => {
      if (signal !== null) output.push(`(killed by ${signal})`);
      resolve(code);
    })
  );
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output.join(""))) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      exited.then(() => {
        if (listeners.delete(check)) {
          reject(new Error(`child exited before printing ${pattern}:\n${output.join("")}`));
        }
      });
      check();
    });
  return { child, output, printed, exited };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function job(id: string, now: number): NewJob {
  return {
    id,
    name: "record",
    queue: "default",
    payload: { id },
    priority: 0,
    maxAttempts: 10,
    maxStalls: 5,
    timeout: 0,
    runAt: now,
  };
}

/** `PRAGMA integrity_check` of the file, through a connection of its own. */
async function integrity(path: string): Promise<string> {
  const db = await openDatabase(path);
  try {
    return String(db.prepare("PRAGMA integrity_check").get()!.integrity_check);
  } finally {
    db.close();
  }
}

describe("SqliteStorage across processes", () => {
  test(
    "3 worker processes on one file run each of 6 000 jobs exactly once, with no storage error",
    { timeout: 120_000 },
    async () => {
      const path = join(dir, "shared.db");
      const storage = await SqliteStorage.open({ path });
      const runs = ["a", "b", "c"].map((id) => join(dir, `runs-${id}.txt`));
      const workers = ["a", "b", "c"].map((id, i) =>
        spawnChild({ DB: path, MODE: "work", WORKER_ID: id, CONCURRENCY: "8", RUNS_FILE: runs[i] })
      );
      try {
        await Promise.all(workers.map((worker) => worker.printed(/ready/)));
        // Enqueued while they are idle and waiting: they must notice it from another process.
        // In small batches, so the enqueues contend with the workers' reserves and settles.
        for (let batch = 0; batch < 60; batch++) {
          const now = Date.now();
          await storage.enqueue(
            Array.from({ length: 100 }, (_, i) => job(`j${batch * 100 + i}`, now)),
            now,
          );
        }
        // Finished jobs are pruned by the workers' default retention (1 000
        // completed kept): the runs recorded tell when all ran.
        const ran = () =>
          runs.reduce(
            (sum, file) =>
              sum + (existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0),
            0,
          );
        await waitUntil("every job ran", () => Promise.resolve(ran() >= 6_000), 90_000);
        await waitUntil("every job settled", async () => {
          const counts = await storage.counts("default");
          return counts.waiting + counts.delayed + counts.active === 0;
        }, 30_000);
        for (const worker of workers) worker.child.kill("SIGTERM");
        await Promise.all(workers.map((worker) => worker.printed(/stopped/)));
      } finally {
        for (const worker of workers) worker.child.kill("SIGKILL");
        await Promise.all(workers.map((worker) => worker.exited));
      }
      const lines = runs.flatMap((file) =>
        existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []
      );
      const perJob = new Map<string, number>();
      for (const line of lines) {
        const id = line.split(" ")[0];
        perJob.set(id, (perJob.get(id) ?? 0) + 1);
      }
      const errors = workers.flatMap((worker) =>
        worker.output.join("").split("\n").filter((line) => line.startsWith("worker error"))
      );
      assert.deepEqual(errors, [], "no worker saw a storage error");
      assert.equal(perJob.size, 6_000, "every job ran");
      const twice = [...perJob].filter(([, count]) => count !== 1);
      assert.deepEqual(twice, [], "no job ran twice");
      const busy = runs.filter((file) => existsSync(file)).length;
      assert.ok(busy >= 2, `the work was shared (${busy} of 3 processes ran jobs)`);
      assert.deepEqual(await storage.counts("default"), {
        waiting: 0,
        delayed: 0,
        active: 0,
        completed: 1_000, // the newest, as the default retention keeps
        failed: 0,
      });
      await storage.close();
      assert.equal(await integrity(path), "ok");
    },
  );

  test(
    "6 processes opening one new file at once all open it, and it is created once",
    { timeout: 60_000 },
    async () => {
      for (let round = 0; round < 3; round++) {
        const path = join(dir, `fresh-${round}.db`);
        const children = Array.from({ length: 6 }, (_, i) =>
          spawnChild({
            DB: path,
            MODE: "work",
            WORKER_ID: `o${i}`,
            RUNS_FILE: join(dir, `fresh-${round}-${i}.txt`),
          }));
        try {
          await Promise.all(children.map((child) => child.printed(/ready/)));
          for (const child of children) child.child.kill("SIGTERM");
          await Promise.all(children.map((child) => child.printed(/stopped/)));
        } finally {
          for (const child of children) child.child.kill("SIGKILL");
          await Promise.all(children.map((child) => child.exited));
        }
        assert.equal(await integrity(path), "ok");
        const db = await openDatabase(path);
        assert.equal(
          db.prepare("SELECT count(*) AS n FROM taskmill_meta").get()!.n,
          1,
          "one application row: the schema was created once",
        );
        db.close();
      }
    },
  );

  test(
    "jobs of a worker SIGKILLed mid-job are reclaimed and run by a worker started after it",
    { timeout: 60_000 },
    async () => {
      const path = join(dir, "restart.db");
      const storage = await SqliteStorage.open({ path });
      const now = Date.now();
      const ids = Array.from({ length: 8 }, (_, i) => `k${i}`);
      await storage.enqueue(ids.map((id) => job(id, now)), now);
      const first = spawnChild({
        DB: path,
        MODE: "work",
        WORKER_ID: "first",
        CONCURRENCY: "8",
        LEASE_MS: "600",
        SLOW_MS: "600000",
        RUNS_FILE: join(dir, "restart-first.txt"),
      });
      try {
        // Every job started, in whatever order (a lookahead per job).
        await first.printed(new RegExp(ids.map((id) => `(?=[\\s\\S]*started ${id}\\b)`).join("")));
        first.child.kill("SIGKILL");
        await first.exited;
      } finally {
        first.child.kill("SIGKILL");
      }
      assert.equal((await storage.counts("default")).active, 8, "killed holding all 8");
      const runs = join(dir, "restart-second.txt");
      const second = spawnChild({
        DB: path,
        MODE: "work",
        WORKER_ID: "second",
        LEASE_MS: "600",
        RUNS_FILE: runs,
      });
      try {
        await second.printed(/ready/);
        await waitUntil(
          "the reclaimed jobs completed",
          async () => (await storage.counts("default")).completed === 8,
          30_000,
        );
        second.child.kill("SIGTERM");
        await second.printed(/stopped/);
      } finally {
        second.child.kill("SIGKILL");
        await second.exited;
      }
      assert.ok(!existsSync(join(dir, "restart-first.txt")), "the killed worker finished nothing");
      const lines = readFileSync(runs, "utf8").split("\n").filter(Boolean).sort();
      assert.deepEqual(lines, ids.map((id) => `${id} 2`).sort(), "each ran once more, attempt 2");
      for (const id of ids) {
        const record = await storage.getJob(id);
        assert.equal(record?.state, "completed");
        assert.equal(record?.stalls, 1, "its stalled attempt was counted");
        assert.deepEqual(record?.result, { by: "second" });
      }
      await storage.close();
    },
  );

  test(
    "a process SIGKILLed during enqueues keeps every batch it was told of, and no part of one",
    { timeout: 60_000 },
    async () => {
      const path = join(dir, "enqueue.db");
      const size = 2_000;
      const child = spawnChild({
        DB: path,
        MODE: "enqueue",
        BATCH: String(size),
        EVENT_BACKLOG: String(BACKLOG),
      });
      try {
        await child.printed(/batch 2\b/);
        // Mid-batch most likely: a batch of 2 000 takes far longer than the kill.
        await new Promise((resolve) => setTimeout(resolve, 7));
        child.child.kill("SIGKILL");
        await child.exited;
      } finally {
        child.child.kill("SIGKILL");
      }
      const acknowledged = [...child.output.join("").matchAll(/batch (\d+)/g)].length;
      assert.equal(await integrity(path), "ok");
      const storage = await SqliteStorage.open({ path, eventBacklog: BACKLOG });
      const waiting = (await storage.counts("default")).waiting;
      assert.equal(waiting % size, 0, `whole batches only (${waiting} jobs)`);
      const batches = waiting / size;
      assert.ok(
        batches === acknowledged || batches === acknowledged + 1,
        `${batches} batches stored, ${acknowledged} acknowledged`,
      );
      for (let batch = 0; batch < batches; batch++) {
        for (const i of [0, size - 1]) {
          assert.equal((await storage.getJob(`b${batch}-${i}`))?.state, "waiting");
        }
      }
      assert.equal(await storage.getJob(`b${batches}-0`), null);
      const page = await storage.readEvents({
        queues: ["default"],
        after: { default: "0" },
        limit: 100_000,
        maxWaitMs: 0,
      });
      assert.equal(page.events.length, waiting, "one enqueued event per stored job, no more");
      await storage.close();
    },
  );

  test(
    "a process SIGKILLed during a settle batch leaves each batch applied whole or not at all",
    { timeout: 60_000 },
    async () => {
      const path = join(dir, "settle.db");
      const total = 20_000;
      const size = 1_000;
      const storage = await SqliteStorage.open({ path, eventBacklog: BACKLOG });
      const now = Date.now();
      await storage.enqueue(Array.from({ length: total }, (_, i) => job(`s${i}`, now)), now);
      await storage.close();
      const child = spawnChild({
        DB: path,
        MODE: "settle",
        LIMIT: String(total),
        BATCH: String(size),
        EVENT_BACKLOG: String(BACKLOG),
      });
      try {
        await child.printed(/settled \d+\n(.|\n)*settled \d+/);
        child.child.kill("SIGKILL");
        await child.exited;
      } finally {
        child.child.kill("SIGKILL");
      }
      const output = child.output.join("");
      assert.doesNotMatch(output, /done/, "killed before it finished (else nothing was tested)");
      const acknowledged = [...output.matchAll(/settled (\d+)/g)].length;
      assert.equal(await integrity(path), "ok");
      const reopened = await SqliteStorage.open({ path, eventBacklog: BACKLOG });
      const counts = await reopened.counts("default");
      assert.equal(counts.completed + counts.active, total, JSON.stringify(counts));
      assert.equal(counts.completed % size, 0, `whole batches only (${counts.completed})`);
      const batches = counts.completed / size;
      assert.ok(
        batches === acknowledged || batches === acknowledged + 1,
        `${batches} batches applied, ${acknowledged} acknowledged`,
      );
      const completed = await reopened.list("default", "completed", { limit: total });
      for (const record of completed) {
        assert.equal(record.lease, undefined);
        assert.equal(typeof record.finishedAt, "number");
        assert.deepEqual(record.result, {
          from: Math.floor(Number(record.id.slice(1)) / size) * size,
        });
      }
      const page = await reopened.readEvents({
        queues: ["default"],
        after: { default: "0" },
        limit: 100_000,
        maxWaitMs: 0,
      });
      const types = page.events.map((event) => event.type);
      assert.equal(types.filter((type) => type === "completed").length, counts.completed);
      assert.equal(types.filter((type) => type === "active").length, total);
      await reopened.close();
    },
  );
});
