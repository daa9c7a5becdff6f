/**
 * The chaos run: proves with figures that taskmill keeps every job through
 * crashed workers and a restarted or frozen redis-server.
 *
 * It starts its own redis-server on a free loopback port (`appendonly yes`,
 * `appendfsync everysec`, in a temp dir) and W worker processes
 * (`scripts/_chaos_worker.ts`), enqueues M jobs at a steady rate with ids
 * `c0..c{M-1}` (an enqueue that fails is retried with the same id, which is
 * idempotent), and meanwhile:
 *
 * - `--mode kill` (default): SIGKILLs the busiest worker every `--kill-every`
 *   ms and starts a replacement, and once restarts redis-server (SIGTERM, then
 *   a new server on the same port and data dir);
 * - `--mode pause`: freezes redis-server with SIGSTOP for `--pause-ms`
 *   (default 5 000) — longer than the lease (default 2 000) — then SIGCONT.
 *
 * Handlers take a few ms and write every execution (`S id attempt worker` at
 * the start, `E ...` at the end) to a per-worker log file, outside Redis.
 * When every job is finished (or the hard cap `--max-seconds` is reached) it
 * stops the workers and prints, Jepsen-style: enqueued, acknowledged,
 * completed (unique), executions, duplicated executions, lost (acknowledged
 * but never completed or failed), still in flight, the largest attempt count,
 * kills, restarts, pauses and duration. `--json` prints the same as JSON.
 *
 * It exits 1 when a job was lost, is still in flight, or did not complete; when
 * a job ran more than once without having been in flight (leased) at a kill,
 * restart or pause; or when duplicated executions outnumber the jobs in flight
 * at those moments.
 *
 * Usage (Deno or Bun; `npm run chaos` uses Deno):
 *
 * ```sh
 * deno run -A scripts/chaos.ts [--jobs 10000] [--workers 4] [--mode kill|pause]
 *   [--rate 400] [--concurrency 10] [--lease MS] [--work-ms 5-30]
 *   [--kill-every 2000] [--max-kills N] [--restarts 1] [--pauses 1] [--pause-ms 5000]
 *   [--max-seconds 300] [--json]
 * ```
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { defineTask, Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { type RedisServer, startRedis } from "../tests/_redis_server.ts";
import { SEQ_WIDTH } from "../adapters/redis/codec.ts";

interface Options {
  jobs: number;
  workers: number;
  mode: "kill" | "pause";
  rate: number;
  concurrency: number;
  lease: number;
  workMs: string;
  killEvery: number;
  maxKills: number;
  restarts: number;
  pauses: number;
  pauseMs: number;
  maxSeconds: number;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const raw = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") {
      json = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: chaos.ts [--jobs N] [--workers W] [--mode kill|pause] [--rate JOBS_PER_S]\n" +
          "  [--concurrency C] [--lease MS] [--work-ms MIN-MAX] [--kill-every MS] [--max-kills N]\n" +
          "  [--restarts N] [--pauses N] [--pause-ms MS] [--max-seconds S] [--json]",
      );
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unknown argument ${JSON.stringify(arg)} (try --help)`);
    raw.set(match[1], match[2] ?? argv[++i]);
  }
  const mode = raw.get("mode") ?? "kill";
  if (mode !== "kill" && mode !== "pause") throw new Error(`--mode must be kill or pause`);
  const num = (name: string, fallback: number, min = 0) => {
    const value = raw.get(name);
    raw.delete(name);
    if (value === undefined) return fallback;
    const n = value === "inf" ? Infinity : Number(value);
    if (Number.isNaN(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  const options: Options = {
    jobs: num("jobs", 10_000, 1),
    workers: num("workers", 4, 1),
    mode,
    rate: num("rate", 400, 1),
    concurrency: num("concurrency", 10, 1),
    lease: num("lease", mode === "pause" ? 2_000 : 5_000, 100),
    workMs: raw.get("work-ms") ?? "5-30",
    killEvery: num("kill-every", 2_000, 100),
    maxKills: num("max-kills", mode === "kill" ? Infinity : 0),
    restarts: num("restarts", mode === "kill" ? 1 : 0),
    pauses: num("pauses", mode === "pause" ? 1 : 0),
    pauseMs: num("pause-ms", 5_000, 1),
    maxSeconds: num("max-seconds", 300, 1),
    json,
  };
  raw.delete("mode");
  raw.delete("work-ms");
  if (raw.size > 0) throw new Error(`Unknown option --${[...raw.keys()][0]} (try --help)`);
  if (!/^\d+-\d+$/.test(options.workMs)) throw new Error("--work-ms must look like 5-30");
  return options;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PREFIX = "chaos";
const TAG = `{${PREFIX}}`;
const ACTIVE = `${TAG}:q:default:active`;

const ext = import.meta.url.endsWith(".js") ? ".js" : ".ts";
const WORKER_FILE = fileURLToPath(new URL(`./_chaos_worker${ext}`, import.meta.url));
const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

// The same task definition as the worker's (maxAttempts and maxStalls are stored per job).
const chaosJob = defineTask({
  name: "chaos",
  maxAttempts: 100,
  maxStalls: 100,
  handler: (_payload: { i: number }) => {},
});

interface WorkerProc {
  id: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
  alive: boolean;
}

interface Disruption {
  kind: "kill" | "restart" | "pause";
  at: number; // ms since the start
  worker?: string;
  /** Ids of the jobs leased (active) at that moment: the only ones allowed to run again. */
  held: string[];
  /**
   * Restart/pause: the window from the snapshot of leased jobs until the
   * server was back. A job reserved between the snapshot and the signal was
   * leased at the outage too; its handler then started inside this window, so
   * jobs whose execution started in it are added to `held` at the end.
   */
  window?: [number, number];
  /** For restart/pause: how long the server was away, in ms. */
  outageMs?: number;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const say = (line: string) => {
    if (!options.json) console.error(line);
  };
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const hardDeadline = started + options.maxSeconds * 1000;
  const dir = await mkdtemp(join(tmpdir(), "taskmill-chaos-"));
  const redisArgs = ["--appendfsync", "everysec"];
  let server: RedisServer = await startRedis({ appendonly: true, dir, args: redisArgs });
  const port = server.port;
  const url = server.url;
  const admin = new Redis(url, { maxRetriesPerRequest: null });
  admin.on("error", () => {});
  const storage = new RedisStorage({ url, prefix: PREFIX });
  const queue = new Queue({ storage });
  const workers: WorkerProc[] = [];
  const disruptions: Disruption[] = [];
  let workerSeq = 0;

  const spawnWorker = (): WorkerProc => {
    const id = `w${++workerSeq}`;
    const args = IS_DENO ? ["run", "-A", WORKER_FILE] : [WORKER_FILE];
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        REDIS_URL: url,
        PREFIX,
        WORKER_ID: id,
        CONCURRENCY: String(options.concurrency),
        LEASE_MS: String(options.lease),
        WORK_MS: options.workMs,
        LOG_FILE: join(dir, `exec-${id}.log`),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    child.stdout!.on("data", (d: Uint8Array) => output.push(String(d)));
    child.stderr!.on("data", (d: Uint8Array) => output.push(String(d)));
    const proc: WorkerProc = {
      id,
      child,
      output,
      alive: true,
      exited: new Promise<void>((resolve) => child.on("exit", () => resolve())),
    };
    proc.exited.then(() => (proc.alive = false));
    workers.push(proc);
    return proc;
  };

  /** Ids of active (leased) jobs, with their owners; retried while Redis is away. */
  const leased = async (): Promise<Map<string, string>> => {
    for (;;) {
      try {
        // Members of the active set are `<15-digit lease seq><id>` (see adapters/redis/codec.ts).
        const ids = (await admin.zrange(ACTIVE, "0", "-1")).map((m) => m.slice(SEQ_WIDTH));
        const out = new Map<string, string>();
        if (ids.length === 0) return out;
        const pipe = admin.pipeline();
        for (const id of ids) pipe.hget(`${TAG}:job:${id}`, "owner");
        const owners = (await pipe.exec()) ?? [];
        ids.forEach((id, i) => out.set(id, String(owners[i]?.[1] ?? "")));
        return out;
      } catch {
        if (Date.now() > hardDeadline) return new Map();
        await sleep(50);
      }
    }
  };

  // ---- producer: a steady rate, idempotent retries by id ----
  const acked = new Set<number>();
  let enqueueErrors = 0;
  let produced = 0;
  let producerDone = false;
  const producer = (async () => {
    const retry: number[] = [];
    const perTick = Math.max(1, Math.round(options.rate / 10));
    let tick = Date.now();
    while (acked.size < options.jobs && Date.now() < hardDeadline) {
      const batch = retry.splice(0, perTick);
      while (batch.length < perTick && produced < options.jobs) batch.push(produced++);
      await Promise.all(batch.map((i) =>
        queue.enqueue(chaosJob, { i }, { id: `c${i}` }).then(
          () => void acked.add(i),
          () => {
            enqueueErrors++;
            retry.push(i);
          },
        )
      ));
      tick += 100;
      await sleep(Math.max(0, tick - Date.now()));
    }
    producerDone = true;
  })();

  const allFinished = async () => {
    if (!producerDone) return false;
    try {
      const c = await queue.counts();
      return c.waiting + c.delayed + c.active === 0 && c.completed + c.failed >= acked.size;
    } catch {
      return false;
    }
  };

  // ---- disruptions ----
  const kill = async () => {
    const owners = await leased();
    const load = new Map<string, number>();
    for (const owner of owners.values()) load.set(owner, (load.get(owner) ?? 0) + 1);
    const live = workers.filter((w) => w.alive);
    if (live.length === 0) return;
    live.sort((a, b) => (load.get(b.id) ?? 0) - (load.get(a.id) ?? 0) || Math.random() - 0.5);
    const victim = live[0];
    victim.child.kill("SIGKILL");
    await victim.exited;
    // What the dead worker still holds: these leases expire and run again.
    const held = [...(await leased())].filter(([, owner]) => owner === victim.id).map(([id]) => id);
    disruptions.push({ kind: "kill", at: elapsed(), worker: victim.id, held });
    const replacement = spawnWorker();
    say(
      `  ${(elapsed() / 1000).toFixed(1)} s: SIGKILL ${victim.id} (${held.length} leased), ` +
        `started ${replacement.id}`,
    );
  };

  const restart = async () => {
    const snapshotAt = Date.now();
    const held = [...(await leased()).keys()];
    const t0 = Date.now();
    await server.stop(); // SIGTERM: redis-server writes its AOF and exits
    await sleep(300);
    server = await startRedis({ appendonly: true, dir, args: redisArgs, port });
    const outageMs = Date.now() - t0;
    const at = t0 - started;
    disruptions.push({ kind: "restart", at, held, outageMs, window: [snapshotAt, Date.now()] });
    say(
      `  ${(at / 1000).toFixed(1)} s: redis-server restarted (away ${outageMs} ms, ` +
        `${held.length} jobs leased)`,
    );
  };

  const pause = async () => {
    const info = await admin.info("server");
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    if (!pid) throw new Error("Cannot find redis-server's pid in INFO server");
    const snapshotAt = Date.now();
    const held = [...(await leased()).keys()];
    const t0 = Date.now();
    process.kill(pid, "SIGSTOP");
    try {
      await sleep(options.pauseMs);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const outageMs = Date.now() - t0;
    const at = t0 - started;
    disruptions.push({ kind: "pause", at, held, outageMs, window: [snapshotAt, Date.now()] });
    say(
      `  ${(at / 1000).toFixed(1)} s: redis-server frozen (SIGSTOP) for ${outageMs} ms, ` +
        `${held.length} jobs leased, lease ${options.lease} ms`,
    );
  };

  let exitCode = 1;
  let finished = false;
  try {
    say(
      `chaos (${options.mode}): ${options.jobs} jobs at ${options.rate}/s, ${options.workers} ` +
        `workers x ${options.concurrency}, lease ${options.lease} ms, redis on port ${port}`,
    );
    for (let i = 0; i < options.workers; i++) spawnWorker();
    const produceMs = (options.jobs / options.rate) * 1000;
    let nextKill = started + options.killEvery;
    let kills = 0;
    let restarts = 0;
    let pauses = 0;
    while (Date.now() < hardDeadline) {
      const now = Date.now();
      // Restarts and pauses are spread evenly over the production (one: its middle).
      const outageAt = (n: number, count: number) =>
        started + Math.max(1_000, (produceMs * (n + 1)) / (count + 1));
      if (restarts < options.restarts && now >= outageAt(restarts, options.restarts)) {
        await restart();
        restarts++;
        nextKill = Math.max(nextKill, Date.now() + options.killEvery / 2);
      } else if (pauses < options.pauses && now >= outageAt(pauses, options.pauses)) {
        await pause();
        pauses++;
      } else if (
        kills < options.maxKills && now >= nextKill && !(await allFinished())
      ) {
        await kill();
        kills++;
        nextKill += options.killEvery;
      }
      if (restarts >= options.restarts && pauses >= options.pauses && await allFinished()) {
        finished = true;
        break;
      }
      await sleep(100);
    }
    await producer;
    const runMs = elapsed();

    // ---- stop the workers, then read the record ----
    const live = workers.filter((w) => w.alive);
    for (const w of live) w.child.kill("SIGTERM");
    const stopDeadline = sleep(20_000).then(() => "timeout");
    if (await Promise.race([Promise.all(live.map((w) => w.exited)), stopDeadline]) === "timeout") {
      for (const w of workers) if (w.alive) w.child.kill("SIGKILL");
    }
    const unclean = live.filter((w) => !w.output.join("").includes(`stopped ${w.id}`));

    const executions = new Map<string, number>();
    const starts: [string, number][] = [];
    let totalExecutions = 0;
    let storageErrors = 0;
    let stalls = 0;
    for (const file of await readdir(dir)) {
      if (!file.startsWith("exec-")) continue;
      for (const line of (await readFile(join(dir, file), "utf8")).split("\n")) {
        const [kind, id, , , at] = line.split(" ");
        if (kind === "S") {
          starts.push([id, Number(at)]);
          totalExecutions++;
          executions.set(id, (executions.get(id) ?? 0) + 1);
        } else if (kind === "X") storageErrors++;
        else if (kind === "T") stalls++;
      }
    }

    // Every acknowledged job's final state, checked against the set it must be in.
    let completed = 0;
    let failed = 0;
    let inFlight = 0;
    let lost = 0;
    let maxAttempt = 0;
    let phantom = 0;
    const lostIds: string[] = [];
    // States come from the public getJob (not the stored layout); the sets
    // are read whole (only unfinished jobs are in them) and matched by id.
    const idsIn = async (key: string) =>
      new Set((await admin.zrange(key, "0", "-1")).map((m) => m.slice(SEQ_WIDTH)));
    const sets: Record<string, Set<string>> = {
      active: await idsIn(ACTIVE),
      waiting: await idsIn(`${TAG}:q:default:wait`),
      delayed: await idsIn(`${TAG}:q:default:delayed`),
    };
    const ids = [...acked].map((i) => `c${i}`);
    for (let from = 0; from < ids.length; from += 1_000) {
      const chunk = ids.slice(from, from + 1_000);
      const jobs = await Promise.all(chunk.map((id) => storage.getJob(id)));
      chunk.forEach((id, n) => {
        const job = jobs[n];
        maxAttempt = Math.max(maxAttempt, job?.attempt ?? 0);
        if (job?.state === "completed" || job?.state === "failed") {
          if (job.state === "completed") completed++;
          else failed++;
          if (job.state === "completed" && !executions.has(id)) phantom++;
          return;
        }
        // Not finished: in flight only if it sits in the set its state names
        // (missing, or in no set: lost).
        if (job !== null && sets[job.state]?.has(id)) inFlight++;
        else {
          lost++;
          lostIds.push(id);
        }
      });
    }

    for (const d of disruptions) {
      if (d.window === undefined) continue;
      const [from, to] = d.window;
      const more = starts.filter(([, at]) => at >= from && at <= to).map(([id]) => id);
      d.held = [...new Set([...d.held, ...more])];
    }
    const held = new Set(disruptions.flatMap((d) => d.held));
    const duplicated = totalExecutions - executions.size;
    const rerun = [...executions].filter(([, n]) => n > 1).map(([id]) => id);
    const unexplained = rerun.filter((id) => !held.has(id));
    const inFlightAtKills = disruptions.filter((d) => d.kind === "kill")
      .reduce((sum, d) => sum + d.held.length, 0);
    const inFlightAtOutages = disruptions.filter((d) => d.kind !== "kill")
      .reduce((sum, d) => sum + d.held.length, 0);
    const allowance = inFlightAtKills + inFlightAtOutages;

    const problems: string[] = [];
    if (acked.size < options.jobs) {
      problems.push(`${options.jobs - acked.size} enqueues never acknowledged`);
    }
    if (lost > 0) problems.push(`${lost} acknowledged jobs lost (${lostIds.slice(0, 5)})`);
    if (inFlight > 0) problems.push(`${inFlight} jobs still in flight`);
    if (completed !== options.jobs) problems.push(`${completed} of ${options.jobs} completed`);
    if (phantom > 0) problems.push(`${phantom} completed jobs never ran`);
    if (duplicated > allowance) {
      problems.push(`${duplicated} duplicated executions > ${allowance} jobs in flight`);
    }
    if (unexplained.length > 0) {
      problems.push(
        `${unexplained.length} jobs ran twice without being in flight at a disruption ` +
          `(${unexplained.slice(0, 5)})`,
      );
    }
    if (!finished) problems.push(`hard cap of ${options.maxSeconds} s reached`);
    if (unclean.length > 0) {
      problems.push(`workers ${unclean.map((w) => w.id)} did not stop cleanly`);
    }

    const report = {
      mode: options.mode,
      runtime: IS_DENO ? "deno" : "bun",
      jobs: options.jobs,
      workers: options.workers,
      concurrency: options.concurrency,
      leaseMs: options.lease,
      enqueued: produced,
      acknowledged: acked.size,
      enqueueErrors,
      completed,
      failed,
      executions: totalExecutions,
      duplicatedExecutions: duplicated,
      jobsRunMoreThanOnce: rerun.length,
      lost,
      stillInFlight: inFlight,
      largestAttempt: maxAttempt,
      kills: disruptions.filter((d) => d.kind === "kill").length,
      inFlightAtKills,
      restarts: disruptions.filter((d) => d.kind === "restart").length,
      pauses: disruptions.filter((d) => d.kind === "pause").length,
      outagesMs: disruptions.filter((d) => d.kind !== "kill").map((d) => d.outageMs),
      inFlightAtOutages,
      workerStorageErrors: storageErrors,
      workerStalls: stalls,
      durationSeconds: Math.round(runMs / 100) / 10,
      ok: problems.length === 0,
      problems,
    };
    if (options.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      const row = (label: string, value: unknown) => console.log(`  ${label.padEnd(24)} ${value}`);
      console.log(`\ntaskmill chaos run, mode ${options.mode} (${report.runtime})`);
      row("enqueued", report.enqueued);
      row("acknowledged", `${report.acknowledged} (${enqueueErrors} enqueue calls retried)`);
      row("completed (unique)", report.completed);
      row("failed", report.failed);
      row("executions", report.executions);
      row("duplicated executions", `${duplicated} (${rerun.length} jobs ran more than once)`);
      row("lost", lost);
      row("still in flight", inFlight);
      row("largest attempt count", maxAttempt);
      row("kills", `${report.kills} (${inFlightAtKills} jobs leased by the killed workers)`);
      row(
        "redis restarts",
        `${report.restarts}` +
          (report.restarts
            ? ` (away ${
              disruptions.filter((d) => d.kind === "restart").map((d) => d.outageMs).join(", ")
            } ms)`
            : ""),
      );
      row(
        "redis pauses",
        `${report.pauses}` +
          (report.pauses
            ? ` (frozen ${
              disruptions.filter((d) => d.kind === "pause").map((d) => d.outageMs).join(", ")
            } ms, lease ${options.lease} ms)`
            : ""),
      );
      row("in flight at outages", inFlightAtOutages);
      row("worker storage errors", storageErrors);
      row("lost leases (stalled)", stalls);
      row("duration", `${report.durationSeconds} s`);
      console.log(
        problems.length === 0
          ? `  verdict                  OK: nothing lost, every job completed, ${duplicated} ` +
            `duplicates <= ${allowance} jobs in flight at the disruptions`
          : `  verdict                  FAILED: ${problems.join("; ")}`,
      );
    }
    exitCode = problems.length === 0 ? 0 : 1;
  } finally {
    for (const w of workers) if (w.alive) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await storage.close();
    admin.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return exitCode;
}

const timer = setTimeout(() => {
  console.error("chaos: hard time limit exceeded; giving up");
  process.exit(2);
}, 15 * 60 * 1000);
try {
  const code = await main();
  clearTimeout(timer);
  process.exit(code);
} catch (error) {
  console.error(`chaos: ${error instanceof Error ? error.stack : error}`);
  process.exit(2);
}
