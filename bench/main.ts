/**
 * taskmill's benchmark, side by side with BullMQ and bee-queue on one
 * redis-server, and with p-queue and fastq in memory. Run it with
 * `npm run bench` on Deno, or `npm run bench:node` on Node 24 (its type
 * stripping runs this file as it is); options: `npm run bench -- --help`.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import * as bee from "./bee_queue.ts";
import * as bull from "./bullmq.ts";
import * as memory from "./memory.ts";
import { type FlowRun, type FlowSetup, runFlow } from "./flow.ts";
import { type CpuRun, roundsFor, runBullSandboxed, runTaskmillCpu } from "./cpu.ts";
import { MemoryStorage } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import * as tm from "./taskmill_redis.ts";
import { Admin, type RedisRun, roundTrips, startRedis } from "./_redis.ts";
import { findRuntimes, runOnce, type SqliteRun, sqliteSystems } from "./sqlite.ts";
import { deadline, fmt, median, parseOptions, percentile, runtime, table } from "./_util.ts";

const options = parseOptions();
const log = (line = "") => {
  if (!options.json) console.log(line);
};
const progress = (line: string) => {
  if (!options.json) console.error(`  … ${line}`);
};

function versionOf(pkg: string): string {
  const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")).version;
}

const REDIS_SYSTEMS = [
  { key: "taskmill", label: "taskmill (Redis)", run: tm.run },
  {
    key: "taskmillKeep",
    label: "taskmill, keeping 1 000",
    run: (url: string, n: number, c: number) => tm.run(url, n, c, { keepCompleted: true }),
  },
  {
    key: "taskmillNoEvents",
    label: "taskmill, events off",
    run: (url: string, n: number, c: number) => tm.run(url, n, c, { events: false }),
  },
  { key: "bullmq", label: `BullMQ ${versionOf("bullmq")}`, run: bull.run },
  { key: "beequeue", label: `bee-queue ${versionOf("bee-queue")}`, run: bee.run },
].filter((s) => options.systems.has(s.key.startsWith("taskmill") ? "taskmill" : s.key));

const taskmillVersion = JSON.parse(
  readFileSync(new URL("../deno.json", import.meta.url), "utf8"),
).version;
const report: Record<string, unknown> = {
  runtime: runtime(),
  cpu: `${os.cpus()[0]?.model ?? "?"} (${os.cpus().length} cores)`,
  versions: {
    taskmill: taskmillVersion,
    bullmq: versionOf("bullmq"),
    "bee-queue": versionOf("bee-queue"),
    "p-queue": versionOf("p-queue"),
    fastq: versionOf("fastq"),
    ioredis: versionOf("ioredis"),
  },
  options: { ...options, systems: [...options.systems] },
};

const needsRedis = REDIS_SYSTEMS.length > 0 || options.systems.has("latency") ||
  options.systems.has("cpu") ||
  options.systems.has("flow");
const redis = needsRedis ? await startRedis() : null;
const admin = redis ? new Admin(redis.url) : null;
if (admin) (report.versions as Record<string, string>)["redis-server"] = await admin.version();

log(`# taskmill benchmark`);
log();
log(`${report.runtime} · ${report.cpu} · ${JSON.stringify(report.versions)}`);

try {
  if (REDIS_SYSTEMS.length > 0) {
    // Per system: every enqueue figure, and per concurrency every process figure.
    const runs: Record<string, { enqueue: number[]; process: Record<number, number[]> }> = {};
    const trips: Record<number, { roundTrips: number[]; commands: number[] }> = {};
    for (const system of REDIS_SYSTEMS) runs[system.key] = { enqueue: [], process: {} };
    // Round by round, concurrency by concurrency, every system back to back:
    // load that comes and goes on the machine then hits all of them alike.
    for (let round = 1; round <= options.repeat; round++) {
      for (const c of options.c) {
        for (const system of REDIS_SYSTEMS) {
          const r = runs[system.key];
          await admin!.reset();
          progress(
            `${system.label}: ${fmt(options.n)} jobs, concurrency ${c}` +
              (options.repeat > 1 ? `, round ${round} of ${options.repeat}` : ""),
          );
          const run: RedisRun = await system.run(redis!.url, options.n, c);
          r.enqueue.push(run.enqueue);
          (r.process[c] ??= []).push(run.process);
          if (system.key === "taskmill") {
            const { roundTrips: rt, commands } = roundTrips(await admin!.commandStats());
            const t = trips[c] ??= { roundTrips: [], commands: [] };
            t.roundTrips.push(rt / options.n);
            t.commands.push(commands / options.n);
          }
        }
      }
    }
    const results: Record<string, { enqueue: number[]; process: Record<number, number> }> = {};
    for (const [key, r] of Object.entries(runs)) {
      results[key] = {
        enqueue: r.enqueue,
        process: Object.fromEntries(options.c.map((c) => [c, median(r.process[c])])),
      };
    }
    const rows: (string | number)[][] = REDIS_SYSTEMS.map((s) => [
      s.label,
      median(results[s.key].enqueue),
      ...options.c.map((c) => results[s.key].process[c]),
    ]);
    const t = results.taskmill;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    for (const peer of REDIS_SYSTEMS.filter((s) => !s.key.startsWith("taskmill"))) {
      if (!t) break;
      const p = results[peer.key];
      rows.push([
        `taskmill / ${peer.label.split(" ")[0]}`,
        ratio(median(t.enqueue), median(p.enqueue)),
        ...options.c.map((c) => ratio(t.process[c], p.process[c])),
      ]);
    }
    log();
    log(
      `## Redis: ${fmt(options.n)} no-op jobs, jobs/s (one worker; enqueue in batches of 1 000)` +
        (options.repeat > 1 ? `, median of ${options.repeat} rounds` : ""),
    );
    log();
    log(table(["system", "bulk enqueue", ...options.c.map((c) => `process C=${c}`)], rows));
    log();
    log(
      "Every system deletes completed jobs as they complete (BullMQ removeOnComplete, bee-queue " +
        'removeOnSuccess, taskmill retention completed.count 0); "taskmill, keeping 1 000" ' +
        "runs with taskmill's default retention instead. Ratios are of the first row.",
    );
    const tripCs = options.c.filter((c) => trips[c] !== undefined);
    if (tripCs.length > 0) {
      log();
      log(
        "taskmill Redis round trips per job (script calls + blocking waits, from INFO commandstats; " +
          "enqueue + processing): " +
          tripCs.map((c) => `C=${c}: ${median(trips[c].roundTrips).toFixed(3)}`).join(", "),
      );
      log(
        "Redis commands per job, including those run inside Lua: " +
          tripCs.map((c) => `C=${c}: ${median(trips[c].commands).toFixed(1)}`).join(", "),
      );
    }
    let fixedPrefetch: number | undefined;
    if (t && options.c.includes(1)) {
      // The same run with the prefetch fixed at 1 job ahead (what the
      // default "auto" starts with): what adapting to short handlers buys.
      await admin!.reset();
      progress(`taskmill (Redis): ${fmt(options.n)} jobs, concurrency 1, prefetch 1`);
      const fixed: number[] = [];
      for (let round = 0; round < options.repeat; round++) {
        await admin!.reset();
        fixed.push((await tm.run(redis!.url, options.n, 1, { prefetch: 1 })).process);
      }
      fixedPrefetch = median(fixed);
      const bull1 = results.bullmq?.process[1];
      log();
      log(
        `taskmill at C=1 with a fixed \`prefetch: 1\` (the default is "auto"): ` +
          `${fmt(fixedPrefetch)} jobs/s` +
          (bull1 ? ` (${(fixedPrefetch / bull1).toFixed(2)}x BullMQ at C=1)` : ""),
      );
    }
    report.redis = {
      n: options.n,
      results,
      taskmillRoundTrips: trips,
      taskmillC1FixedPrefetch1: fixedPrefetch,
    };
  }

  if (options.systems.has("latency")) {
    const rows: (string | number)[][] = [];
    const latency: Record<string, { p50: number; p99: number }> = {};
    for (
      const [label, fn] of [["taskmill (Redis)", tm.latency], ["BullMQ", bull.latency]] as const
    ) {
      await admin!.reset();
      progress(`${label}: idle wake-up latency, ${options.latencyN} jobs one at a time`);
      const samples = await fn(redis!.url, options.latencyN);
      latency[label] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
      rows.push([label, latency[label].p50.toFixed(3), latency[label].p99.toFixed(3)]);
    }
    log();
    log(`## Idle wake-up latency: enqueue → handler start, ${options.latencyN} jobs one at a time`);
    log();
    log(table(["system", "p50 ms", "p99 ms"], rows));
    report.latency = latency;
  }

  if (options.systems.has("flow")) {
    // At the highest concurrency of the Redis runs (C=50 by default).
    const c = Math.max(...options.c);
    const groupsN = options.groups * options.groupSize;
    const stores: [string, FlowSetup["open"]][] = [
      ["MemoryStorage", () => {
        const storage = new MemoryStorage();
        return Promise.resolve({ storage, close: () => storage.close() });
      }],
      ["RedisStorage", async () => {
        await admin!.reset();
        const storage = new RedisStorage({ url: redis!.url, prefix: "bench" });
        return { storage, close: () => storage.close() };
      }],
    ];
    const modes: [FlowSetup["mode"], number][] = [
      ["none", options.n],
      ["limits", options.n],
      ["none", groupsN],
      ["groups", groupsN],
    ];
    const runs: Record<string, FlowRun[][]> = {};
    // Round by round, every mode back to back (load on the machine hits all alike).
    for (let round = 1; round <= options.repeat; round++) {
      for (const [label, open] of stores) {
        const rows = runs[label] ??= modes.map(() => []);
        for (const [i, [mode, n]] of modes.entries()) {
          progress(
            `flow control on ${label}: ${mode}, ${fmt(n)} jobs, concurrency ${c}` +
              (options.repeat > 1 ? `, round ${round} of ${options.repeat}` : ""),
          );
          rows[i].push(await runFlow({ open, n, c, mode, groups: options.groups }));
        }
      }
    }
    const rate = (xs: FlowRun[]) => median(xs.map((x) => x.process));
    const rows: (string | number)[][] = [];
    const flowReport: Record<string, unknown> = {};
    for (const [label] of stores) {
      const [none, limits, ungrouped, grouped] = runs[label];
      const unfair = Math.max(...grouped.map((x) => x.unfairness ?? 0));
      rows.push([
        label,
        rate(none),
        rate(limits),
        `${(rate(limits) / rate(none)).toFixed(2)}x`,
        rate(ungrouped),
        rate(grouped),
        `${(rate(grouped) / rate(ungrouped)).toFixed(2)}x`,
        `±${(unfair * 100).toFixed(1)} %`,
      ]);
      flowReport[label] = {
        none: rate(none),
        limits: rate(limits),
        ungrouped: rate(ungrouped),
        groups: rate(grouped),
        unfairness: unfair,
      };
    }
    log();
    log(
      `## Flow control: one worker at C=${c}, jobs/s` +
        (options.repeat > 1 ? `, median of ${options.repeat} rounds` : ""),
    );
    log();
    log(table([
      "storage",
      `${fmt(options.n)} jobs, no limit`,
      "limits that never bind",
      "ratio",
      `${fmt(groupsN)} jobs, no groups`,
      `${fmt(options.groups)} groups of ${fmt(options.groupSize)}`,
      "ratio",
      "largest share deviation",
    ], rows));
    log();
    log(
      "Limits that never bind: concurrency 1 000 000 and a rate of 100 000 per second on the " +
        "queue, checked and counted in every reserve. Groups are enqueued one after another; " +
        "the deviation is the largest of any group's share of the completed jobs from an equal " +
        "share, at 25 %, 50 % and 75 % of the run (the worst round).",
    );
    report.flow = {
      c,
      n: options.n,
      groups: options.groups,
      groupSize: options.groupSize,
      ...flowReport,
    };
  }

  if (options.systems.has("cpu")) {
    const rounds = roundsFor(options.cpuMs);
    const systems: [string, () => Promise<CpuRun>][] = [
      ...(["inline", "thread", "process"] as const).map((runner) =>
        [
          runner === "inline" ? "taskmill, in the worker" : `taskmill, ${runner} pool of 2`,
          () => runTaskmillCpu(redis!.url, () => admin!.reset(), runner, options.cpuJobs, rounds),
        ] as [string, () => Promise<CpuRun>]
      ),
      [
        `BullMQ ${versionOf("bullmq")} sandboxed (worker threads)`,
        () => runBullSandboxed(redis!.url, () => admin!.reset(), options.cpuJobs, rounds),
      ],
    ];
    const runs: CpuRun[][] = systems.map(() => []);
    for (let round = 1; round <= options.repeat; round++) {
      for (const [i, [label, run]] of systems.entries()) {
        progress(
          `cpu: ${label}, ${options.cpuJobs} jobs of ~${options.cpuMs} ms` +
            (options.repeat > 1 ? `, round ${round} of ${options.repeat}` : ""),
        );
        runs[i].push(await deadline(run(), 600_000, `cpu: ${label}`));
      }
    }
    const rate = (i: number) => median(runs[i].map((r) => r.perSecond));
    const rows = systems.map(([label], i) => [
      label,
      fmt(Math.round(rate(i))),
      `${(rate(i) / rate(0)).toFixed(2)}x`,
      median(runs[i].map((r) => r.heartbeatP99)).toFixed(1),
    ]);
    log();
    log(
      `## CPU-bound: ${options.cpuJobs} jobs of ~${options.cpuMs} ms of hashing, concurrency 4, ` +
        `${os.availableParallelism()} cores, median of ${options.repeat} round(s)`,
    );
    log();
    log(table(["system", "jobs/s", "vs in the worker", "heartbeat p99 delay ms"], rows));
    log();
    log(
      "Heartbeat delay: how late each lease renewal (every 100 ms) ran; for BullMQ, a 100 ms " +
        "timer in its worker, as its lock renewal is.",
    );
    report.cpu = Object.fromEntries(systems.map(([label], i) => [label, runs[i]]));
  }

  if (options.systems.has("sqlite")) {
    const n = options.sqliteN;
    const cs = options.sqliteC;
    const rt = findRuntimes();
    const { systems, versions } = await sqliteSystems(rt, progress);
    Object.assign(report.versions as Record<string, string>, versions, {
      "Deno (runs)": rt.denoVersion,
      "Bun (runs)": rt.bunVersion,
      "Node (runs)": rt.node24Version,
    });
    const runs: Record<string, { enqueue: number[]; process: Record<number, number[]> }> = {};
    const failed: Record<string, string> = {};
    // Round by round, concurrency by concurrency, every system back to back.
    for (let round = 1; round <= options.repeat; round++) {
      for (const c of cs) {
        for (const system of systems) {
          if (!system.command || failed[system.key]) continue;
          progress(
            `sqlite: ${system.label} on ${system.runtime}, ${fmt(n)} jobs, concurrency ${c}` +
              (options.repeat > 1 ? `, round ${round} of ${options.repeat}` : ""),
          );
          try {
            const run: SqliteRun = await runOnce(system, n, c);
            const r = runs[system.key] ??= { enqueue: [], process: {} };
            r.enqueue.push(run.enqueue);
            (r.process[c] ??= []).push(run.process);
          } catch (error) {
            failed[system.key] = `failed at concurrency ${c}: ${(error as Error).message}`;
            progress(`sqlite: ${system.label} on ${system.runtime}: ${failed[system.key]}`);
          }
        }
      }
    }
    const ran = (key: string) => runs[key] !== undefined && !failed[key];
    const enq = (key: string) => median(runs[key].enqueue);
    const proc = (key: string, c: number) => median(runs[key].process[c]);
    const rows: (string | number)[][] = [];
    const notes: string[] = [];
    for (const s of systems) {
      if (ran(s.key)) {
        rows.push([s.label, s.runtime, enq(s.key), ...cs.map((c) => proc(s.key, c))]);
      } else {
        rows.push([s.label, s.runtime, "did not run", ...cs.map(() => "")]);
        notes.push(`- ${s.label} on ${s.runtime}: ${s.skip ?? failed[s.key]}`);
      }
    }
    // Each peer against taskmill on the peer's own runtime.
    const taskmillOn = (runtime: string) =>
      systems.find((s) => s.taskmill && s.runtime === runtime && ran(s.key));
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    for (const p of systems.filter((s) => !s.key.startsWith("taskmill") && ran(s.key))) {
      const t = taskmillOn(p.runtime);
      if (!t) continue;
      rows.push([
        `taskmill / ${p.label.split(",")[0]}`,
        p.runtime,
        ratio(enq(t.key), enq(p.key)),
        ...cs.map((c) => ratio(proc(t.key, c), proc(p.key, c))),
      ]);
    }
    log();
    log(
      `## SQLite: ${fmt(n)} no-op jobs on a file, jobs/s (one process per run, one worker)` +
        (options.repeat > 1 ? `, median of ${options.repeat} rounds` : ""),
    );
    log();
    log(table(["system", "runtime", "bulk enqueue", ...cs.map((c) => `process C=${c}`)], rows));
    log();
    log(
      "Every run: a fresh database file in a temporary directory (deleted after), WAL with " +
        "synchronous = NORMAL on every system but Deno KV (its own settings); enqueue of all " +
        "jobs (in batches of 1 000 where the system has a bulk call: taskmill enqueueMany, " +
        "plainjob addMany, Deno KV atomic; liteque and sidequest have none and enqueue one " +
        "at a time), then processing timed from the worker's start to the last completion. " +
        "taskmill deletes completed jobs as they complete (retention completed.count 0), as " +
        'liteque does; "keeping 1 000" is its default retention; plainjob and sidequest keep ' +
        "them all. Deno KV's queue has no concurrency option: the same listenQueue in every " +
        "column. Settings of each peer: bench/sqlite_peers/run.mjs. Ratios: taskmill on the " +
        "peer's runtime.",
    );
    if (notes.length > 0) {
      log();
      log("Not run:");
      for (const line of notes) log(line);
    }
    const top = Math.max(...cs);
    const peersAtTop = systems.filter((s) => !s.key.startsWith("taskmill") && ran(s.key));
    let goal: Record<string, unknown> | undefined;
    if (peersAtTop.length > 0) {
      const best = peersAtTop.reduce((a, b) => proc(a.key, top) >= proc(b.key, top) ? a : b);
      const mine = systems.filter((s) => s.taskmill && ran(s.key));
      const lines = mine.map((t) =>
        `${t.runtime} ${fmt(proc(t.key, top))} (${ratio(proc(t.key, top), proc(best.key, top))})`
      );
      const deno = mine.find((t) => t.key === "taskmill-deno");
      const met = deno ? proc(deno.key, top) >= 2 * proc(best.key, top) : false;
      log();
      log(
        `Goal, taskmill at C=${top} at least 2x the fastest peer at C=${top} (${best.label} on ` +
          `${best.runtime}: ${fmt(proc(best.key, top))} jobs/s): taskmill on ` + lines.join(", ") +
          ` — ${met ? "met" : "not met"} on Deno.`,
      );
      goal = {
        c: top,
        fastestPeer: best.key,
        fastestPeerRate: proc(best.key, top),
        metOnDeno: met,
      };
    }
    report.sqlite = {
      n,
      c: cs,
      results: Object.fromEntries(
        systems.map((s) => [
          s.key,
          ran(s.key)
            ? {
              label: s.label,
              runtime: s.runtime,
              enqueue: runs[s.key].enqueue,
              process: runs[s.key].process,
            }
            : { label: s.label, runtime: s.runtime, notRun: s.skip ?? failed[s.key] },
        ]),
      ),
      goal,
    };
  }

  if (options.systems.has("memory")) {
    const rows: (string | number)[][] = [];
    const tmRuns: Record<number, memory.MemoryRun> = {};
    const tmKeep: Record<number, memory.MemoryRun> = {};
    const pq: Record<number, number> = {};
    const fq: Record<number, number> = {};
    // The round with the median jobs/s stands for taskmill's runs (its heap figure with it).
    const middle = (xs: memory.MemoryRun[]) =>
      [...xs].sort((a, b) => a.jobsPerSecond - b.jobsPerSecond)[Math.floor(xs.length / 2)];
    for (const c of options.memoryC) {
      const rounds = { tm: [] as memory.MemoryRun[], keep: [] as memory.MemoryRun[] };
      const peers = { pq: [] as number[], fq: [] as number[] };
      for (let round = 1; round <= options.repeat; round++) {
        progress(
          `memory: ${fmt(options.memoryN)} jobs, concurrency ${c}` +
            (options.repeat > 1 ? `, round ${round} of ${options.repeat}` : ""),
        );
        rounds.tm.push(await memory.taskmill(options.memoryN, c));
        rounds.keep.push(await memory.taskmill(options.memoryN, c, true));
        peers.pq.push(await memory.pQueue(options.memoryN, c));
        peers.fq.push(await memory.fastQueue(options.memoryN, c));
      }
      tmRuns[c] = middle(rounds.tm);
      tmKeep[c] = middle(rounds.keep);
      pq[c] = median(peers.pq);
      fq[c] = median(peers.fq);
    }
    const cs = options.memoryC;
    rows.push(
      [
        "taskmill (MemoryStorage)",
        "enqueue + process, full lifecycle",
        ...cs.map((c) => tmRuns[c].jobsPerSecond),
      ],
      [
        "taskmill, keeping 1 000",
        "same, default retention",
        ...cs.map((c) => tmKeep[c].jobsPerSecond),
      ],
      [`p-queue ${versionOf("p-queue")}`, "add + onIdle", ...cs.map((c) => pq[c])],
      [`fastq ${versionOf("fastq")}`, "push + drained (promise API)", ...cs.map((c) => fq[c])],
      [
        "taskmill / p-queue",
        "",
        ...cs.map((c) => `${(tmRuns[c].jobsPerSecond / pq[c]).toFixed(2)}x`),
      ],
      [
        "taskmill / fastq",
        "",
        ...cs.map((c) => `${(tmRuns[c].jobsPerSecond / fq[c]).toFixed(2)}x`),
      ],
    );
    log();
    log(
      `## In memory: ${fmt(options.memoryN)} no-op jobs, jobs/s` +
        (options.repeat > 1 ? `, median of ${options.repeat} rounds` : ""),
    );
    log();
    log(table(["system", "measures", ...cs.map((c) => `C=${c}`)], rows));
    log();
    const heap = (runs: Record<number, memory.MemoryRun>) =>
      cs.map((c) =>
        `C=${c}: ${(runs[c].heapGrowth / 1048576).toFixed(1)} MiB, ${runs[c].kept} kept`
      )
        .join("; ");
    log(
      "taskmill deletes completed jobs as they complete (retention completed.count 0: the peers " +
        'keep none); "keeping 1 000" is the default retention.',
    );
    log(
      `taskmill heap after the run minus before (GC'd): ${heap(tmRuns)}; keeping 1 000: ` +
        heap(tmKeep),
    );
    report.memory = {
      n: options.memoryN,
      taskmill: tmRuns,
      taskmillKeeping1000: tmKeep,
      pQueue: pq,
      fastq: fq,
    };
  }
} finally {
  await admin?.close();
  await redis?.stop();
}

if (options.json) console.log(JSON.stringify(report, null, 2));
process.exit(0);
