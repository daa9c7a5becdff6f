// SqliteStorage against MemoryStorage (correct by definition): the same
// seeded random workloads on both, every answer compared (lease tokens
// mapped to the order they were handed out), and the whole state (every
// job, counts, listings, groups, queues, events) compared every few steps.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStorage } from "../adapters/memory/mod.ts";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";
import type { NewJob, Retention, Settlement, Storage, TaskSettings } from "../core/storage.ts";
import type { NewSchedule, ScheduleRecord } from "../core/storage_schedules.ts";
import type { WorkerInfo } from "../core/storage_events.ts";
import type { JobState } from "../core/task.ts";

const dir = mkdtempSync(join(tmpdir(), "taskmill-sqlite-model-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const STATES: JobState[] = ["waiting", "delayed", "active", "completed", "failed"];
const QUEUES = ["q1", "q2", "q3"];
const GROUPS = [undefined, undefined, "g1", "g2", "g3"];
const CHECK_EVERY = 15;

/** mulberry32: a small seeded generator, so a failing seed can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Real lease tokens of one storage, as the order they were first seen ("T1", "T2", ...). */
class Tokens {
  #canonical = new Map<string, string>();
  #real = new Map<string, string>();
  canonical(token: string): string {
    let name = this.#canonical.get(token);
    if (name === undefined) {
      name = `T${this.#canonical.size + 1}`;
      this.#canonical.set(token, name);
      this.#real.set(name, token);
    }
    return name;
  }
  real(name: string): string {
    return this.#real.get(name) ?? `never-issued-${name}`;
  }
}

/** `value` with every lease token replaced by its canonical name. */
function normalize(value: unknown, tokens: Tokens): unknown {
  if (Array.isArray(value)) return value.map((item) => normalize(item, tokens));
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (key === "lease" && typeof item === "object" && item !== null) {
      const lease = item as { token: string };
      copy[key] = { ...lease, token: tokens.canonical(lease.token) };
    } else copy[key] = normalize(item, tokens);
  }
  return copy;
}

async function runWorkload(
  seed: number,
  steps: number,
  path: string,
  eventBacklog?: number,
): Promise<void> {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const chance = (p: number) => rand() < p;
  const memory = new MemoryStorage({ eventBacklog });
  const sqlite = new SqliteStorage({ path, eventBacklog });
  const sides: { storage: Storage; tokens: Tokens }[] = [
    { storage: memory, tokens: new Tokens() },
    { storage: sqlite, tokens: new Tokens() },
  ];
  const taskDefaults: ReadonlyMap<string, TaskSettings> = new Map([
    ["t1", { maxAttempts: 2, maxStalls: 0, timeout: 100 }],
  ]);
  const ids: string[] = [];
  let nextId = 0;
  let now = 1_000_000;
  /** Canonical tokens handed out, newest last, with their job ids. */
  const leases: { id: string; token: string }[] = [];

  /** Runs `call` on both sides and asserts the answers are equal; returns the memory one. */
  async function both<T>(what: string, call: (storage: Storage, tokens: Tokens) => Promise<T>) {
    const answers: unknown[] = [];
    for (const { storage, tokens } of sides) {
      let answer: unknown;
      try {
        answer = { ok: normalize(await call(storage, tokens), tokens) };
      } catch (error) {
        answer = { error: (error as Error).message };
      }
      answers.push(answer);
    }
    assert.deepEqual(answers[1], answers[0], `seed ${seed}, ${what}: SQLite differs from memory`);
    return answers[0] as { ok?: T; error?: string };
  }

  function newJob(): NewJob {
    const fresh = ids.length === 0 || chance(0.85);
    const id = fresh ? `j${++nextId}` : pick(ids);
    if (fresh) ids.push(id);
    const job: NewJob = {
      id,
      name: pick(["t1", "t2"]),
      queue: pick(QUEUES),
      payload: chance(0.1) ? undefined : { n: nextId, list: [1, "two", null] },
      priority: pick([0, 0, 0, 1, 5, -1]),
      maxAttempts: chance(0.3) ? null : pick([1, 2, 3]),
      maxStalls: chance(0.3) ? null : pick([0, 1]),
      timeout: chance(0.3) ? null : 0,
      runAt: now + (chance(0.3) ? pick([1, 10, 50]) : chance(0.1) ? -5 : 0),
    };
    const group = pick(GROUPS);
    if (group !== undefined) job.group = group;
    if (chance(0.2)) {
      const mode = pick(["unique", "throttle", "debounce"] as const);
      job.dedupe = mode === "debounce"
        ? { key: pick(["k1", "k2"]), mode, ttl: null, delay: pick([0, 5, 30]) }
        : { key: pick(["k1", "k2", "k3"]), mode, ttl: chance(0.5) ? null : 40, delay: null };
    }
    return job;
  }

  for (let step = 0; step < steps; step++) {
    const op = rand();
    if (op < 0.22) {
      const jobs = Array.from({ length: 1 + Math.floor(rand() * 4) }, newJob);
      await both(`step ${step} enqueue`, (s) => s.enqueue(jobs, now));
    } else if (op < 0.45) {
      const queues = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(QUEUES));
      const limit = 1 + Math.floor(rand() * 4);
      const owner = pick(["w1", "w2"]);
      const leaseMs = pick([20, 60, 200]);
      const defaults = chance(0.5) ? taskDefaults : undefined;
      const answer = await both(
        `step ${step} reserve`,
        (s) => s.reserve({ queues, limit, owner, leaseMs, now, taskDefaults: defaults }),
      );
      for (const job of answer.ok?.jobs ?? []) leases.push({ id: job.id, token: job.lease!.token });
    } else if (op < 0.65 && leases.length > 0) {
      const chosen = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
        // Mostly recent leases (still held), sometimes an old one (lost, or settled).
        chance(0.8)
          ? leases[leases.length - 1 - Math.floor(rand() * Math.min(5, leases.length))]
          : pick(leases));
      const error = { message: "boom", name: "Error", attempt: 1, at: now };
      const kinds = chosen.map(() => pick(["complete", "retry", "fail", "release"] as const));
      const runAts = chosen.map(() => now + pick([0, 0, 10, 40]));
      const holds = chosen.map(() => chance(0.2) ? now + pick([5, 30]) : undefined);
      const results = chosen.map(() => chance(0.5) ? { ok: true } : undefined);
      const retention: Retention | undefined = chance(0.3)
        ? {
          completed: { count: pick([0, 2, 5]), age: pick([30, 1_000]) },
          failed: { count: pick([1, 5]), age: pick([50, 1_000]) },
        }
        : undefined;
      await both(`step ${step} settle`, (s, tokens) => {
        const settlements: Settlement[] = chosen.map(({ id, token }, i) => {
          const real = tokens.real(token);
          switch (kinds[i]) {
            case "complete":
              return { kind: "complete", id, token: real, result: results[i] };
            case "retry":
              return { kind: "retry", id, token: real, error, runAt: runAts[i] };
            case "fail":
              return { kind: "fail", id, token: real, error };
            default:
              return runAts[i] === now
                ? { kind: "release", id, token: real, holdUntil: holds[i] }
                : { kind: "release", id, token: real, runAt: runAts[i], holdUntil: holds[i] };
          }
        });
        return s.settle(settlements, { now, retention });
      });
    } else if (op < 0.7 && leases.length > 0) {
      const chosen = leases.slice(-3);
      const leaseMs = pick([20, 100]);
      await both(
        `step ${step} extendLeases`,
        (s, tokens) =>
          s.extendLeases(
            chosen.map(({ id, token }) => ({ id, token: tokens.real(token) })),
            leaseMs,
            now,
          ),
      );
    } else if (op < 0.73 && leases.length > 0) {
      const { id, token } = pick(leases);
      const progress = { pct: step };
      await both(
        `step ${step} setProgress`,
        (s, tokens) => s.setProgress(id, tokens.real(token), progress, now),
      );
    } else if (op < 0.77 && ids.length > 0) {
      const id = pick(ids);
      await both(`step ${step} retryFailed`, (s) => s.retryFailed(id, now));
    } else if (op < 0.8 && ids.length > 0) {
      const id = pick(ids);
      await both(`step ${step} promote`, (s) => s.promote(id, now));
    } else if (op < 0.83 && ids.length > 0) {
      const id = pick(ids);
      const onlyFailed = chance(0.5);
      await both(
        `step ${step} remove`,
        (s) => onlyFailed ? s.removeFailed(id, now) : s.remove(id, now),
      );
    } else if (op < 0.86) {
      const queue = pick(QUEUES);
      const pause = chance(0.5);
      await both(
        `step ${step} pause/resume`,
        (s) => pause ? s.pause(queue, now) : s.resume(queue, now),
      );
    } else if (op < 0.88) {
      const queue = pick(QUEUES);
      const retention: Retention = {
        completed: { count: pick([0, 3]), age: pick([20, 500]) },
        failed: { count: pick([1, 3]), age: pick([20, 500]) },
      };
      await both(`step ${step} prune`, (s) => s.prune(queue, retention, now));
    } else if (op < 0.91) {
      const queue = pick(QUEUES);
      const limits = chance(0.25) ? null : {
        concurrency: chance(0.5) ? null : 1 + Math.floor(rand() * 3),
        rate: chance(0.5) ? null : { max: 1 + Math.floor(rand() * 3), per: pick([10, 50]) },
        group: chance(0.5) ? null : {
          concurrency: chance(0.5) ? null : 1,
          rate: chance(0.7) ? null : { max: 1, per: 20 },
        },
      };
      await both(`step ${step} setLimits`, (s) => s.setLimits(queue, limits, now));
    } else if (op < 0.93) {
      const queue = pick(QUEUES);
      const group = pick(["g1", "g2", "g3"]);
      const limits = chance(0.3) ? null : { concurrency: pick([null, 1, 2]), rate: null };
      await both(`step ${step} setGroupLimits`, (s) => s.setGroupLimits(queue, group, limits, now));
    } else if (op < 0.945) {
      const id = pick(["s1", "s2"]);
      const every = pick([20, 50]);
      const schedule: NewSchedule = {
        id,
        job: {
          name: "t1",
          queue: pick(QUEUES),
          payload: { schedule: id },
          priority: 0,
          maxAttempts: null,
          maxStalls: null,
          timeout: null,
        },
        cron: null,
        tz: null,
        every,
        startAt: now + every,
        missed: "latest",
        timing: `every ${every}`,
        nextRunAt: now + every,
      };
      await both(`step ${step} upsertSchedule`, (s) => s.upsertSchedule(schedule, now));
    } else if (op < 0.96) {
      const queues = QUEUES.slice(0, 1 + Math.floor(rand() * 3));
      const due = await both(`step ${step} dueSchedules`, (s) => s.dueSchedules(queues, now, 2));
      for (const record of (due.ok?.due ?? []) as ScheduleRecord[]) {
        // Sometimes a stale fire (revision or nextRunAt read before), which must be refused.
        const stale = chance(0.2);
        const tick = record.nextRunAt;
        const fire = {
          id: record.id,
          revision: record.revision - (stale && chance(0.5) ? 1 : 0),
          nextRunAt: tick - (stale ? 1 : 0),
          jobs: chance(0.2)
            ? []
            : [{ ...record.job, id: `schedule:${record.id}:${tick}`, runAt: tick }],
          lastTickAt: tick,
          next: tick + (record.every ?? 20),
        };
        await both(`step ${step} fireSchedule`, (s) => s.fireSchedule(fire, now));
      }
      if (chance(0.1)) {
        const id = pick(["s1", "s2"]);
        await both(`step ${step} removeSchedule`, (s) => s.removeSchedule(id));
      }
    } else if (op < 0.975) {
      const id = pick(["w1", "w2", "w3"]);
      const info: WorkerInfo = {
        id,
        host: "h",
        pid: 1,
        runtime: "deno",
        runtimeVersion: "1",
        queues: QUEUES.slice(0, 2),
        concurrency: 2,
        running: step % 3,
        processed: step,
        failed: 0,
        startedAt: now,
        lastSeen: now,
      };
      const kind = chance(0.3) ? "online" : "heartbeat";
      const ttl = pick([10, 40]);
      const which = rand();
      if (which < 0.6) {
        await both(`step ${step} registerWorker`, (s) => s.registerWorker(info, kind, ttl, now));
      } else if (which < 0.8) {
        await both(`step ${step} unregisterWorker`, (s) => s.unregisterWorker(id, now));
      } else await both(`step ${step} workers`, (s) => s.workers(now));
    } else {
      // Time moves on (rarely back: the port must not assume it only grows).
      now += chance(0.05) ? -3 : pick([1, 5, 10, 25, 60]);
    }
    if (chance(0.3)) now += pick([1, 3]);

    if (step % CHECK_EVERY === 0 || step === steps - 1) {
      for (const id of ids) await both(`step ${step} getJob ${id}`, (s) => s.getJob(id));
      for (const queue of QUEUES) {
        await both(`step ${step} counts ${queue}`, (s) => s.counts(queue));
        await both(`step ${step} isPaused ${queue}`, (s) => s.isPaused(queue));
        await both(`step ${step} getLimits ${queue}`, (s) => s.getLimits(queue));
        await both(`step ${step} groups ${queue}`, (s) => s.groups(queue, now));
        for (const state of STATES) {
          await both(`step ${step} list ${queue} ${state}`, (s) => s.list(queue, state));
        }
      }
      await both(`step ${step} queues`, (s) => s.queues());
      const after = Object.fromEntries(QUEUES.map((queue) => [queue, "0"]));
      await both(
        `step ${step} readEvents`,
        (s) => s.readEvents({ queues: QUEUES, workers: true, after, limit: 100_000, maxWaitMs: 0 }),
      );
      await both(
        `step ${step} readEvents from the ends`,
        (s) => s.readEvents({ queues: QUEUES, workers: true, after: {}, limit: 3, maxWaitMs: 0 }),
      );
      await both(`step ${step} schedules`, (s) => s.schedules());
    }
  }
  await memory.close();
  await sqlite.close();
}

describe("SqliteStorage matches MemoryStorage", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`on seeded random workload ${seed} (a file)`, async () => {
      await runWorkload(seed, 800, join(dir, `model-${seed}.db`));
    });
  }
  test("on a seeded random workload in :memory:", async () => {
    await runWorkload(99, 800, ":memory:");
  });
  test("on seeded random workloads keeping 7 events per stream, and none", async () => {
    await runWorkload(100, 800, join(dir, "model-backlog-7.db"), 7);
    await runWorkload(101, 400, join(dir, "model-backlog-0.db"), 0);
  });
});
