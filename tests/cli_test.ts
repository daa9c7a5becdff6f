// End-to-end tests of the `taskmill` command line: real processes against a
// real redis-server. Each runtime tests itself: under `deno test` the CLI runs
// on Deno (`deno run cli/main.ts`), under `bun test` on Bun (`bun
// cli/main.ts`), and under Node (scripts/test_node.sh, the suite compiled
// against the built npm package) it is the package's `bin`, run by the same
// Node that runs the tests.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { SqliteStorage } from "../adapters/sqlite/mod.ts";
import { freePort, type RedisServer, startRedis } from "./_redis_server.ts";
import { promtoolCheck } from "./_promtool.ts";

/** Raw control characters (but not newline) and bidi overrides: what a terminal would act on. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const RUNTIME = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The command that runs the CLI on this runtime. */
function cliCommand(): string[] {
  if (RUNTIME === "deno") {
    return [
      process.execPath,
      "run",
      "-A",
      "--quiet",
      fileURLToPath(new URL("../cli/main.ts", import.meta.url)),
    ];
  }
  if (RUNTIME === "bun") {
    return [process.execPath, fileURLToPath(new URL("../cli/main.ts", import.meta.url))];
  }
  // Node: the built package's bin, resolved like any dependency.
  return [process.execPath, fileURLToPath(import.meta.resolve("taskmill/cli"))];
}

/** The module the tasks file imports `defineTask` from. */
function taskmillUrl(): string {
  return RUNTIME === "node"
    ? import.meta.resolve("taskmill")
    : new URL("../mod.ts", import.meta.url).href;
}

/** Whether this runtime imports a `.ts` tasks module (Node from 22.18 strips types). */
function importsTypeScript(): boolean {
  if (RUNTIME !== "node") return true;
  return Boolean((process as { features?: { typescript?: unknown } }).features?.typescript);
}

interface Cli {
  child: ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves once a line of stdout matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ended and its output closed. */
  exited: Promise<number | null>;
  /** Resolves once the process itself ended (its output may stay open in children it left). */
  ended: Promise<void>;
}

// Process tests take real time (each runtime starts in 0.1-0.5 s): above Bun's 5 s default.
const children = new Set<ChildProcess>();

/**
 * Sends SIGTERM by pid: Deno's `child.kill()` reports any child it signalled
 * as killed by the signal, even one that handled it and exited 0.
 */
function terminate(child: ChildProcess): void {
  process.kill(child.pid!, "SIGTERM");
}

/** Sends SIGINT (Ctrl-C) by pid, for the reason {@linkcode terminate} gives. */
function interrupt(child: ChildProcess): void {
  process.kill(child.pid!, "SIGINT");
}

function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const [file, ...rest] = cliCommand();
  return runProcess(file, [...rest, ...args], ROOT, env);
}

function runProcess(file: string, args: string[], cwd: string, env: Record<string, string>): Cli {
  const child = spawn(file, args, {
    cwd,
    env: { ...process.env, TASKMILL_REDIS_URL: "", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (chunk: Uint8Array) => {
    out += chunk.toString();
    for (const check of waiters) check();
  });
  child.stderr!.on("data", (chunk: Uint8Array) => {
    err += chunk.toString();
  });
  const ended = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      children.delete(child);
      for (const check of waiters) check();
      resolve(code);
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    ended,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = out.split("\n").find((l) => pattern.test(l));
          if (line !== undefined) {
            finish();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(
              new Error(`CLI exited before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs the CLI to its end. */
async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const dir = mkdtempSync(join(tmpdir(), "taskmill-cli-"));
const ext = importsTypeScript() ? "ts" : "mjs";
const ts = ext === "ts";

/** A tasks module: `sleepy` sleeps `payload.ms` (unless TASKMILL_TEST_FAST is set), `broken` throws. */
const TASKS = join(dir, `tasks.${ext}`);
writeFileSync(
  TASKS,
  `import process from "node:process";
import { defineTask } from ${JSON.stringify(taskmillUrl())};

function sleep(ms${ts ? ": number" : ""}, signal${ts ? ": AbortSignal" : ""}) {
  return new Promise${ts ? "<void>" : ""}((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export const sleepy = defineTask({
  name: "sleepy",
  handler: async (payload${ts ? ": { ms: number }" : ""}, ctx) => {
    await sleep(process.env.TASKMILL_TEST_FAST ? 0 : payload.ms, ctx.signal);
    return { slept: payload.ms, attempt: ctx.job.attempt };
  },
});

export default [
  defineTask({ name: "broken", maxAttempts: 1, handler: () => { throw new Error("it broke"); } }),
];
`,
);

/** Tasks that live on other queues, with their own settings, and one whose error has control characters. */
const ROUTED = join(dir, `routed.${ext}`);
writeFileSync(
  ROUTED,
  `import { defineTask, UnrecoverableError } from ${JSON.stringify(taskmillUrl())};

export const mailer = defineTask({
  name: "mailer",
  queue: "emails",
  maxAttempts: 7,
  timeout: 1234,
  handler: () => "sent",
});
export const resize = defineTask({ name: "resize", queue: "images", handler: () => "resized" });
export const nasty = defineTask({
  name: "nasty",
  handler: () => {
    throw new UnrecoverableError("\\u001b[2Jgone\\nline2\\u009b[31m\\u202eevil");
  },
});
`,
);

/** `echo` completes with its payload as the result (untrusted text for the events tail). */
const ECHO = join(dir, `echo.${ext}`);
writeFileSync(
  ECHO,
  `import { defineTask } from ${JSON.stringify(taskmillUrl())};
export const echo = defineTask({ name: "echo", handler: (payload) => payload });
`,
);

const THROWS = join(dir, `throws.${ext}`);
writeFileSync(THROWS, `throw new Error("cannot start: missing API_KEY");\nexport {};\n`);
const EMPTY = join(dir, `empty.${ext}`);
writeFileSync(EMPTY, `export const answer = 42;\n`);

/** The deployment examples, and the built package their entry point runs with Node. */
const DEPLOY = join(ROOT, "examples", "deploy");
const BUILT_CLI = join(ROOT, "npm", "cli", "main.js");

/** Pids of the live processes whose environment holds `entry` (Linux: /proc). */
function processesWith(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(entry)) {
        found.push(Number(name));
      }
    } catch {
      // ended meanwhile, or not readable: not one of ours
    }
  }
  return found;
}

/** Polls `condition` until it holds, for at most `ms` of real time. */
async function eventually(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let prefixes = 0;
function prefix(): string {
  return `cli${process.pid}x${++prefixes}`;
}

describe(`CLI on ${RUNTIME}`, () => {
  let redis: RedisServer;

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await redis?.stop();
  });

  test("--help prints the usage; COMMAND --help and help COMMAND print one command's", {
    timeout: 60_000,
  }, async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage:/);
    assert.match(help.stdout, /worker --tasks FILE/);
    assert.match(help.stdout, /--run-at TIME/);

    for (const args of [["enqueue", "--help"], ["help", "enqueue"], ["enqueue", "x", "-h"]]) {
      const run = await cli(args);
      assert.equal(run.code, 0, args.join(" "));
      assert.match(run.stdout, /^Usage:\n {2}taskmill enqueue TASK JSON \[options\]/);
      assert.match(run.stdout, /--tasks FILE +the module the worker runs/);
      assert.match(run.stdout, /--redis-url URL/);
      assert.doesNotMatch(
        run.stdout,
        /--concurrency|--stop-timeout|taskmill stats/,
        args.join(" "),
      );
      assert.equal(run.stderr, "");
    }
    const eventsHelp = await cli(["events", "--help"]);
    assert.equal(eventsHelp.code, 0, eventsHelp.stderr);
    assert.match(eventsHelp.stdout, /^Usage:\n {2}taskmill events \[options\] +tail events live/);
    assert.match(eventsHelp.stdout, /--workers +show the workers' events/);
    assert.match(eventsHelp.stdout, /--from ID/);
    const workersHelp = await cli(["help", "workers"]);
    assert.match(workersHelp.stdout, /^Usage:\n {2}taskmill workers \[options\] +the live workers/);
    assert.doesNotMatch(workersHelp.stdout, /--from|--queue/);
    const failedHelp = await cli(["failed", "list", "--help"]);
    assert.match(failedHelp.stdout, /taskmill failed list .*\n {2}taskmill failed retry/);
    assert.match(failedHelp.stdout, /--limit N/);
    assert.doesNotMatch(failedHelp.stdout, /--tasks/);
  });

  test(
    "bad arguments: one line naming the problem and the help to read, exit 2",
    { timeout: 60_000 },
    async () => {
      const cases: [string[], RegExp][] = [
        [[], /^taskmill: no command given; see taskmill --help$/],
        [["frobnicate"], /^taskmill: unknown command "frobnicate"; see taskmill --help$/],
        [
          ["stast"],
          /^taskmill: unknown command "stast" \(did you mean stats\?\); see taskmill --help$/,
        ],
        [
          ["enqueue", "sleepy", "{}", "--delya", "5"],
          /^taskmill: unknown option --delya for enqueue \(did you mean --delay\?\); see taskmill enqueue --help$/,
        ],
        [
          ["failed", "list", "--limt", "3"],
          /^taskmill: unknown option --limt for failed \(did you mean --limit\?\); see taskmill failed --help$/,
        ],
        [
          ["worker", "--tasks", TASKS, "--concurrency", "many"],
          /--concurrency must be a whole number/,
        ],
        [["worker", "--tasks", TASKS, "--prefetch", "lots"], /--prefetch must be auto/],
        [["worker", "--tasks", TASKS, "--prefetch", "1001"], /--prefetch must be auto/],
        [
          ["worker", "--bogus"],
          /^taskmill: unknown option --bogus for worker; see taskmill worker --help$/,
        ],
        [["worker"], /worker needs --tasks FILE; see taskmill worker --help$/],
        [["enqueue", "sleepy"], /enqueue needs TASK and JSON/],
        [["enqueue", "sleepy", "{not json", "--redis-url", redis.url], /not valid JSON/],
        [["failed", "retry", "--redis-url", redis.url], /needs a job ID or --all/],
        [["worker", "--tasks", TASKS, "--log-level", "loud"], /--log-level must be/],
        [
          ["enqueue", "sleepy", "{}", "--delay", "5", "--run-at", "2030-01-01T00:00:00Z"],
          /^taskmill: enqueue: give --delay or --run-at, not both; see taskmill enqueue --help$/,
        ],
        [["enqueue", "sleepy", "{}", "--run-at", "tomorrow"], /--run-at must be an ISO 8601 time/],
        [["enqueue", "sleepy", "{}", "--run-at", "2030-01-01 10:00"], /--run-at must be/],
        [["enqueue", "sleepy", "{}", "--timeout", "-1"], /--timeout must be at least 0/],
        [["stats", "--queue", "bad\u001b[31mname", "--redis-url", redis.url], /queue/],
        [["events", "--from", "latest"], /^taskmill: --from must be an event id/],
        [
          ["events", "--json=yes"],
          /^taskmill: --json takes no value; see taskmill events --help$/,
        ],
        [
          ["events", "--worker"],
          /^taskmill: unknown option --worker for events \(did you mean --workers\?\)/,
        ],
        [["events", "--queue", "bad\u001b[31mname", "--redis-url", redis.url], /queue/],
        [
          ["workers", "extra"],
          /^taskmill: workers: unexpected extra; see taskmill workers --help$/,
        ],
        [["workers", "--queue", "x"], /^taskmill: unknown option --queue for workers/],
      ];
      for (const [args, message] of cases) {
        const run = await cli(args);
        assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
        const lines = run.stderr.split("\n");
        assert.equal(lines.length, 2, `one line: ${run.stderr}`);
        assert.equal(lines[1], "");
        assert.match(lines[0], /^taskmill: .+; see taskmill( [a-z]+)? --help$/, args.join(" "));
        assert.match(lines[0], message, args.join(" "));
        assert.doesNotMatch(run.stderr, /Usage:/);
        assert.doesNotMatch(run.stderr, CONTROL);
        assert.equal(run.stdout, "");
      }
    },
  );

  test(
    "enqueue, stats and failed need Redis: exit 2 without a URL",
    { timeout: 60_000 },
    async () => {
      for (
        const args of [["enqueue", "sleepy", "{}"], ["stats"], ["failed", "list"], ["events"], [
          "workers",
        ]]
      ) {
        const run = await cli(args);
        assert.equal(run.code, 2, args.join(" "));
        assert.match(run.stderr, /needs a storage that outlives this process.*--redis-url/);
      }
    },
  );

  test(
    "an unreachable Redis is one line, exit 1, password redacted",
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      const url = `redis://app:hunter2@127.0.0.1:${port}`;
      for (
        const args of [
          ["stats", "--redis-url", url],
          ["worker", "--tasks", TASKS, "--redis-url", url],
        ]
      ) {
        const run = await cli(args);
        assert.equal(run.code, 1, run.stderr);
        const lines = run.stderr.split("\n").filter((l) => l !== "");
        assert.equal(lines.length, 1, run.stderr);
        assert.match(
          lines[0],
          new RegExp(
            `^taskmill: cannot reach Redis at redis://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}: `,
          ),
        );
        assert.doesNotMatch(run.stderr + run.stdout, /hunter2/);
        assert.doesNotMatch(run.stderr, /\n\s+at /);
      }
      // The URL may come from the environment too.
      const fromEnv = await cli(["stats"], { TASKMILL_REDIS_URL: url });
      assert.equal(fromEnv.code, 1);
      assert.doesNotMatch(fromEnv.stderr, /hunter2/);
    },
  );

  test(
    "a tasks module that does not load names the file and the reason",
    { timeout: 60_000 },
    async () => {
      const missing = join(dir, "nope.mjs");
      const cases: [string, RegExp][] = [
        [missing, /no such file|not found|cannot find/i],
        [THROWS, /missing API_KEY/],
        [EMPTY, /exports no tasks/],
      ];
      for (const [file, reason] of cases) {
        const run = await cli(["worker", "--tasks", file]);
        assert.equal(run.code, 1, run.stderr);
        const lines = run.stderr.split("\n").filter((l) => l !== "");
        assert.equal(lines.length, 1, run.stderr);
        assert.ok(lines[0].startsWith(`taskmill: cannot load tasks module ${file}: `), lines[0]);
        assert.match(lines[0], reason);
      }
    },
  );

  test("without Redis the worker says it runs in memory, and stops cleanly on SIGTERM", {
    timeout: 60_000,
  }, async () => {
    const worker = runCli(["worker", "--tasks", TASKS, "--prefetch", "3"]);
    await worker.waitFor(/ started on /);
    assert.match(worker.stdout(), / started on .*concurrency 10, prefetch 3\n/);
    assert.match(worker.stderr(), /in-memory store/);
    terminate(worker.child);
    assert.equal(await worker.exited, 0, worker.stderr());
    assert.match(worker.stdout(), /SIGTERM: stopping/);
  });

  test("worker --metrics-port serves Prometheus text promtool accepts, on 127.0.0.1 by default", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    try {
      const queue = new Queue({ storage });
      await queue.enqueueMany("sleepy", [{ ms: 0 }, { ms: 0 }]);
      await queue.enqueue("broken", null, { maxAttempts: 1 });
      const worker = runCli(
        [
          "worker",
          "--tasks",
          TASKS,
          "--redis-url",
          redis.url,
          "--prefix",
          p,
          "--metrics-port",
          "0",
        ],
        { TASKMILL_TEST_FAST: "1" },
      );
      const line = await worker.waitFor(/ metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const url = line.match(/http:\/\/\S+/)![0];
      await eventually("three jobs finished", () => {
        const out = worker.stdout();
        return (out.match(/ completed sleepy /g)?.length ?? 0) === 2 && / failed broken /.test(out);
      });
      const response = await fetch(url);
      const text = await response.text();
      assert.equal(response.status, 200, text);
      assert.equal(
        response.headers.get("content-type"),
        "text/plain; version=0.0.4; charset=utf-8",
      );
      const check = await promtoolCheck(text);
      assert.equal(check.code, 0, `promtool check metrics:\n${check.output}\n${text}`);
      assert.match(
        text,
        /^taskmill_attempts_total\{queue="default",task="sleepy",outcome="completed"\} 2$/m,
      );
      assert.match(
        text,
        /^taskmill_attempts_total\{queue="default",task="broken",outcome="failed"\} 1$/m,
      );
      assert.match(text, /^taskmill_jobs\{queue="default",state="failed"\} 1$/m);
      assert.match(text, /^taskmill_workers_alive 1$/m);
      const post = await fetch(url, { method: "POST" });
      assert.equal(post.status, 405);
      await post.body?.cancel();
      terminate(worker.child);
      assert.equal(await worker.exited, 0, worker.stderr());
      await assert.rejects(fetch(url)); // the server stopped with the worker
    } finally {
      await storage.close();
    }
  });

  test("--metrics-port out of range, and --metrics-host without a port, are usage errors", {
    timeout: 60_000,
  }, async () => {
    const high = await cli(["worker", "--tasks", TASKS, "--metrics-port", "70000"]);
    assert.equal(high.code, 2, high.stderr);
    assert.match(high.stderr, /--metrics-port must be 0-65535, got 70000/);
    const host = await cli(["worker", "--tasks", TASKS, "--metrics-host", "0.0.0.0"]);
    assert.equal(host.code, 2, host.stderr);
    assert.match(host.stderr, /--metrics-host needs --metrics-port/);
  });

  test("dashboard --port 0 serves the overview on 127.0.0.1 and stops on SIGTERM with 0", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    try {
      await new Queue({ storage }).enqueue("sleepy", { ms: 0 }, { queue: "dashq" });
      const server = runCli(["dashboard", "--port", "0", "--redis-url", redis.url, "--prefix", p]);
      const line = await server.waitFor(/dashboard on http:\/\/127\.0\.0\.1:\d+\//);
      const url = line.match(/http:\/\/\S+/)![0];
      const response = await fetch(url);
      const body = await response.text();
      assert.equal(response.status, 200, body);
      assert.match(body, /data-queue="dashq"/);
      assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'self'/);
      terminate(server.child);
      assert.equal(await server.exited, 0, server.stderr());
      assert.match(server.stdout(), /SIGTERM: stopping/);
      await assert.rejects(fetch(url));
    } finally {
      await storage.close();
    }
  });

  test("dashboard: a bad --port or --base-path is a usage error", { timeout: 60_000 }, async () => {
    const high = await cli(["dashboard", "--port", "70000", "--redis-url", redis.url]);
    assert.equal(high.code, 2, high.stderr);
    assert.match(high.stderr, /--port must be 0-65535, got 70000/);
    const base = await cli(["dashboard", "--base-path", "admin", "--redis-url", redis.url]);
    assert.equal(base.code, 2, base.stderr);
    assert.match(base.stderr, /--base-path must be a path/);
  });

  test(
    "enqueue, run, stats, and the dead-letter set through the CLI",
    { timeout: 60_000 },
    async () => {
      const p = prefix();
      const common = ["--redis-url", redis.url, "--prefix", p];
      const a = await cli(["enqueue", "sleepy", '{"ms":10}', ...common]);
      assert.equal(a.code, 0, a.stderr);
      const id = a.stdout.trim();
      assert.match(id, /^\S+$/);
      const b = await cli([
        "enqueue",
        "broken",
        "null",
        "--id",
        "broken-1",
        "--max-attempts",
        "1",
        "--json",
        ...common,
      ]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(JSON.parse(b.stdout).id, "broken-1");
      assert.equal(JSON.parse(b.stdout).state, "waiting");

      const before = await cli(["stats", "--json", ...common]);
      assert.equal(before.code, 0, before.stderr);
      assert.deepEqual(JSON.parse(before.stdout).default, {
        waiting: 2,
        delayed: 0,
        active: 0,
        completed: 0,
        failed: 0,
        paused: false,
      });

      const worker = await cli(["worker", "--tasks", TASKS, "--max-tasks", "2", ...common]);
      assert.equal(worker.code, 0, worker.stderr);
      assert.match(worker.stdout, new RegExp(`info  active sleepy id=${id} `));
      assert.match(worker.stdout, new RegExp(`info  completed sleepy id=${id} .*duration=\\d+ms`));
      assert.match(worker.stdout, /error failed broken id=broken-1 .*Error: it broke/);

      const table = await cli(["stats", ...common]);
      assert.match(table.stdout, /^queue +waiting +delayed +active +completed +failed +paused\n/);
      assert.match(table.stdout, /\ndefault +0 +0 +0 +1 +1 +no\n/);

      const list = await cli(["failed", "list", "--json", ...common]);
      assert.deepEqual(JSON.parse(list.stdout).map((j: { id: string }) => j.id), ["broken-1"]);
      const listed = await cli(["failed", "list", ...common]);
      assert.match(listed.stdout, /^queue "default": 1 failed job, newest first\n/);
      assert.match(listed.stdout, /broken-1 +broken +1\/1 .*Error: it broke/);

      const retry = await cli(["failed", "retry", "broken-1", ...common]);
      assert.equal(retry.code, 0, retry.stderr);
      assert.equal(retry.stdout, "retried broken-1\n");
      const again = await cli(["failed", "retry", "broken-1", ...common]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /job broken-1 is not in the failed set/);

      const rerun = await cli(["worker", "--tasks", TASKS, "--max-tasks", "1", ...common]);
      assert.equal(rerun.code, 0, rerun.stderr);
      const remove = await cli(["failed", "remove", "--all", ...common]);
      assert.equal(remove.stdout, "removed 1 failed job of queue default\n");
      const after = await cli(["stats", "--json", ...common]);
      assert.equal(JSON.parse(after.stdout).default.failed, 0);
    },
  );

  test(
    "enqueue --tasks takes the task's queue and settings from the module; an unknown task is a usage error",
    { timeout: 60_000 },
    async () => {
      const p = prefix();
      const common = ["--redis-url", redis.url, "--prefix", p];
      const routed = await cli(["enqueue", "mailer", "{}", "--tasks", ROUTED, "--json", ...common]);
      assert.equal(routed.code, 0, routed.stderr);
      assert.equal(routed.stderr, "", "the module names the queue: no warning");
      const job = JSON.parse(routed.stdout);
      assert.equal(job.queue, "emails");
      assert.equal(job.maxAttempts, 7);
      assert.equal(job.timeout, 1234);

      // Options still override the module's settings.
      const overridden = await cli([
        "enqueue",
        "mailer",
        "{}",
        "--tasks",
        ROUTED,
        "--max-attempts",
        "2",
        "--timeout",
        "500",
        "--json",
        ...common,
      ]);
      assert.equal(overridden.code, 0, overridden.stderr);
      const second = JSON.parse(overridden.stdout);
      assert.deepEqual([second.queue, second.maxAttempts, second.timeout], ["emails", 2, 500]);

      const unknown = await cli(["enqueue", "mailr", "{}", "--tasks", ROUTED, ...common]);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.equal(
        unknown.stderr,
        `taskmill: enqueue: no task "mailr" in ${ROUTED}, which exports mailer, nasty, resize ` +
          "(did you mean mailer?); see taskmill enqueue --help\n",
      );
      assert.equal(unknown.stdout, "");
      const storage = new RedisStorage({ url: redis.url, prefix: p });
      try {
        const queue = new Queue({ storage });
        for (const name of ["default", "emails", "images"]) {
          const counts = await queue.counts(name);
          assert.equal(counts.waiting, name === "emails" ? 2 : 0, `${name}: nothing else stored`);
        }
      } finally {
        await storage.close();
      }

      const missing = await cli([
        "enqueue",
        "mailer",
        "{}",
        "--tasks",
        join(dir, "nope.mjs"),
        ...common,
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^taskmill: cannot load tasks module .*nope\.mjs: /);
    },
  );

  test("enqueue --group puts the job in its group; a bad group name is a usage error", {
    timeout: 60_000,
  }, async () => {
    const common = ["--redis-url", redis.url, "--prefix", prefix(), "--json"];
    const grouped = await cli(["enqueue", "sleepy", "{}", "--group", "tenant-7", ...common]);
    assert.equal(grouped.code, 0, grouped.stderr);
    assert.equal(JSON.parse(grouped.stdout).group, "tenant-7");
    const bad = await cli(["enqueue", "sleepy", "{}", "--group", "a b", ...common]);
    assert.equal(bad.code, 2, bad.stderr); // a bad option value: a usage error
    assert.match(
      bad.stderr,
      /^taskmill: Cannot enqueue job "sleepy": group "a b" may only contain/,
    );
  });

  test("enqueue --timeout and --run-at (ISO 8601 or epoch ms)", { timeout: 60_000 }, async () => {
    const common = ["--redis-url", redis.url, "--prefix", prefix(), "--json"];
    const iso = await cli([
      "enqueue",
      "sleepy",
      "{}",
      "--run-at",
      "2099-01-02T03:04:05.678Z",
      ...common,
    ]);
    assert.equal(iso.code, 0, iso.stderr);
    const a = JSON.parse(iso.stdout);
    assert.equal(a.runAt, Date.UTC(2099, 0, 2, 3, 4, 5, 678));
    assert.equal(a.state, "delayed");
    const offset = await cli([
      "enqueue",
      "sleepy",
      "{}",
      "--run-at",
      "2099-01-02T04:04:05+01:00",
      ...common,
    ]);
    assert.equal(JSON.parse(offset.stdout).runAt, Date.UTC(2099, 0, 2, 3, 4, 5));
    const epoch = await cli([
      "enqueue",
      "sleepy",
      "{}",
      "--run-at",
      String(Date.UTC(2098, 5, 1)),
      "--timeout",
      "2500",
      ...common,
    ]);
    assert.equal(epoch.code, 0, epoch.stderr);
    const b = JSON.parse(epoch.stdout);
    assert.equal(b.runAt, Date.UTC(2098, 5, 1));
    assert.equal(b.timeout, 2500);
    assert.equal(b.state, "delayed");
    // A time in the past runs at once.
    const past = await cli([
      "enqueue",
      "sleepy",
      "{}",
      "--run-at",
      "2001-09-09T01:46:40Z",
      ...common,
    ]);
    assert.equal(JSON.parse(past.stdout).state, "waiting");
  });

  test(
    "enqueue without --tasks warns on stderr while no worker has served the queue",
    { timeout: 60_000 },
    async () => {
      const p = prefix();
      const common = ["--redis-url", redis.url, "--prefix", p];
      const warning =
        /^taskmill: warning: no worker seems to have served queue "emails" yet .*check the queue name, or give --tasks FILE/;
      const first = await cli(["enqueue", "mailer", "{}", "--queue", "emails", ...common]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^\S+\n$/, "stdout is still just the id");
      assert.match(first.stderr, warning);
      assert.equal(first.stderr.split("\n").length, 2, "one line");
      // Waiting jobs are no sign of a worker: the second enqueue warns too.
      const again = await cli(["enqueue", "mailer", "{}", "--queue", "emails", ...common]);
      assert.match(again.stderr, warning);

      // Once a worker has taken jobs from the queue, no warning.
      const worker = await cli([
        "worker",
        "--tasks",
        ROUTED,
        "--queues",
        "emails",
        "--max-tasks",
        "2",
        ...common,
      ]);
      assert.equal(worker.code, 0, worker.stderr);
      const served = await cli(["enqueue", "mailer", "{}", "--queue", "emails", ...common]);
      assert.equal(served.code, 0, served.stderr);
      assert.equal(served.stderr, "");

      // A paused queue was set up on purpose: no warning either.
      const storage = new RedisStorage({ url: redis.url, prefix: p });
      try {
        await new Queue({ storage }).pause("images");
      } finally {
        await storage.close();
      }
      const paused = await cli(["enqueue", "resize", "{}", "--queue", "images", ...common]);
      assert.equal(paused.code, 0, paused.stderr);
      assert.equal(paused.stderr, "");
    },
  );

  test(
    "stats and failed list name the queue they read, and say so plainly when it has no jobs",
    { timeout: 60_000 },
    async () => {
      const common = ["--redis-url", redis.url, "--prefix", prefix()];
      const note = (q: string) =>
        `queue "${q}": no jobs in any state; check the name (taskmill stats without --queue lists every queue)`;
      const table = await cli(["stats", "--queue", "defualt", ...common]);
      assert.equal(table.code, 0, table.stderr);
      assert.equal(table.stdout, `${note("defualt")}\n`);
      const everyQueue = await cli(["stats", ...common]);
      assert.equal(everyQueue.code, 0, everyQueue.stderr);
      assert.equal(
        everyQueue.stdout,
        "no queues in this store (none was ever enqueued to, paused or resumed)\n",
      );
      const everyJson = await cli(["stats", "--json", ...common]);
      assert.equal(everyJson.stdout, "{}\n");
      const json = await cli(["stats", "--queue", "defualt", "--json", ...common]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), {
        defualt: { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, paused: false },
      });
      assert.equal(json.stderr, `taskmill: ${note("defualt")}\n`);

      const list = await cli(["failed", "list", "--queue", "defualt", ...common]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, `${note("defualt")}\n`);
      const listJson = await cli(["failed", "list", "--queue", "defualt", "--json", ...common]);
      assert.equal(listJson.stdout, "[]\n");
      assert.equal(listJson.stderr, `taskmill: ${note("defualt")}\n`);

      // A queue with jobs but none failed: a table for stats, a plain line for failed list.
      const enq = await cli(["enqueue", "sleepy", "{}", ...common]);
      assert.equal(enq.code, 0, enq.stderr);
      const some = await cli(["stats", "--queue", "default,defualt", ...common]);
      assert.equal(
        some.stdout.replace(/ +/g, " "),
        "queue waiting delayed active completed failed paused\n" +
          "default 1 0 0 0 0 no\n" +
          `${note("defualt")}\n`,
      );
      const none = await cli(["failed", "list", ...common]);
      assert.equal(none.stdout, 'queue "default": no failed jobs\n');
    },
  );

  test("a server that may evict keys is a warning line on every command (issue 10, item 10)", {
    timeout: 60_000,
  }, async () => {
    const evicting = await startRedis({ args: ["--maxmemory-policy", "allkeys-lru"] });
    try {
      const common = ["--redis-url", evicting.url, "--prefix", prefix()];
      const stats = await cli(["stats", ...common]);
      assert.equal(stats.code, 0, stats.stderr);
      assert.match(stats.stderr, /taskmill: warning: .*maxmemory-policy allkeys-lru/);
      const enq = await cli(["enqueue", "sleepy", '{"ms":0}', ...common]);
      assert.equal(enq.code, 0, enq.stderr);
      assert.match(enq.stderr, /taskmill: warning: .*maxmemory-policy allkeys-lru/);
      const worker = await cli(["worker", "--tasks", TASKS, "--max-tasks", "1", ...common]);
      assert.equal(worker.code, 0, worker.stderr);
      const lines = (worker.stdout + worker.stderr).split("\n");
      const warned = lines.filter((line) => /maxmemory-policy allkeys-lru/.test(line));
      assert.equal(warned.length, 1, `one line, at error level:\n${warned.join("\n")}`);
      assert.match(warned[0], /error during storage check/);
    } finally {
      await evicting.stop();
    }
  });

  test("job data with control characters is escaped in the worker log and failed list", {
    timeout: 60_000,
  }, async () => {
    const common = ["--redis-url", redis.url, "--prefix", prefix()];
    const enq = await cli(["enqueue", "nasty", "null", "--id", "nasty-1", ...common]);
    assert.equal(enq.code, 0, enq.stderr);
    const worker = await cli(["worker", "--tasks", ROUTED, "--max-tasks", "1", ...common]);
    assert.equal(worker.code, 0, worker.stderr);
    const escaped = "\\x1b[2Jgone\\nline2\\x9b[31m\\u202eevil";
    assert.ok(worker.stdout.includes(`UnrecoverableError: ${escaped}`), worker.stdout);
    const list = await cli(["failed", "list", ...common]);
    assert.match(list.stdout, /^queue "default": 1 failed job, newest first\n/);
    assert.ok(list.stdout.includes(escaped), list.stdout);
    const json = await cli(["failed", "list", "--json", ...common]);
    assert.equal(
      JSON.parse(json.stdout)[0].error.message,
      "\u001b[2Jgone\nline2\u009b[31m\u202eevil",
    );
    for (const output of [worker.stdout, worker.stderr, list.stdout, json.stdout]) {
      assert.doesNotMatch(output, CONTROL);
    }
  });

  test("events tails the jobs of every queue as a worker runs them; SIGINT ends it with 0", {
    timeout: 60_000,
  }, async () => {
    const common = ["--redis-url", redis.url, "--prefix", prefix()];
    // Jobs from before the tail started, on two queues: --from 0 shows every event kept.
    const a = await cli(["enqueue", "sleepy", '{"ms":0}', "--id", "sleepy-1", ...common]);
    assert.equal(a.code, 0, a.stderr);
    const c = await cli([
      "enqueue",
      "mailer",
      "{}",
      "--tasks",
      ROUTED,
      "--id",
      "mail-1",
      ...common,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const tail = runCli(["events", "--workers", "--from", "0", ...common]);
    const time = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    await tail.waitFor(new RegExp(`^${time} default enqueued job=sleepy-1 task=sleepy$`));
    await tail.waitFor(/^\S+ emails enqueued job=mail-1 task=mailer$/);
    // A job enqueued while it runs.
    const b = await cli(["enqueue", "broken", "null", "--id", "broken-1", ...common]);
    assert.equal(b.code, 0, b.stderr);
    await tail.waitFor(/^\S+ default enqueued job=broken-1 task=broken$/);

    const worker = await cli(["worker", "--tasks", TASKS, "--max-tasks", "2", ...common], {
      TASKMILL_TEST_FAST: "1",
    });
    assert.equal(worker.code, 0, worker.stderr);
    await tail.waitFor(/^\S+ default active job=sleepy-1 attempt=1 worker=\S+$/);
    await tail.waitFor(/^\S+ default completed job=sleepy-1 result=\{"slept":0,"attempt":1\}$/);
    await tail.waitFor(/^\S+ default failed job=broken-1 error=Error: it broke$/);
    interrupt(tail.child);
    assert.equal(await tail.exited, 0, tail.stderr());
    assert.equal(tail.stderr(), "");
    // One line per event, in stream order: sleepy-1 enqueued, active, completed.
    const sleepy = tail.stdout().split("\n").filter((l) => / job=sleepy-1 /.test(l));
    assert.deepEqual(sleepy.map((l) => l.split(" ")[2]), ["enqueued", "active", "completed"]);
  });

  test("events --queue --json: one event per line, as stored; SIGTERM ends it with 0", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const common = ["--redis-url", redis.url, "--prefix", p];
    const tail = runCli(["events", "--queue", "emails", "--json", "--from", "0", ...common]);
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    try {
      const queue = new Queue({ storage });
      await queue.enqueue("other", null, { id: "not-shown" }); // queue default: not asked for
      const job = await queue.enqueue("mailer", { to: "a@b.c" }, { queue: "emails", id: "m-1" });
      await queue.pause("emails");
      await tail.waitFor(/"type":"paused"/);
      terminate(tail.child);
      assert.equal(await tail.exited, 0, tail.stderr());
      const lines = tail.stdout().trimEnd().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((e) => [e.id, e.queue, e.type, e.jobId]), [
        ["1", "emails", "enqueued", job.id],
        ["2", "emails", "paused", undefined],
      ]);
      assert.equal(lines[0].name, "mailer");
      assert.equal(typeof lines[0].at, "number");
    } finally {
      await storage.close();
    }
  });

  test("events and workers escape control characters from the store; their JSON stays exact", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const common = ["--redis-url", redis.url, "--prefix", p];
    const evilId = "id\u009b2J\u202eevil";
    const evilResult = "\u001b]0;owned\u0007\u001b[2J";
    const enq = await cli([
      "enqueue",
      "echo",
      JSON.stringify(evilResult),
      "--id",
      evilId,
      ...common,
    ]);
    assert.equal(enq.code, 0, enq.stderr);
    assert.doesNotMatch(enq.stdout, CONTROL);
    const long = await cli([
      "enqueue",
      "echo",
      JSON.stringify("x".repeat(500)),
      "--id",
      "long-1",
      ...common,
    ]);
    assert.equal(long.code, 0, long.stderr);
    const nasty = await cli(["enqueue", "nasty", "null", "--id", "nasty-1", ...common]);
    assert.equal(nasty.code, 0, nasty.stderr);
    const tail = runCli(["events", "--from", "0", ...common]);
    const echo = await cli(["worker", "--tasks", ECHO, "--max-tasks", "2", ...common]);
    assert.equal(echo.code, 0, echo.stderr);
    const routed = await cli(["worker", "--tasks", ROUTED, "--max-tasks", "1", ...common]);
    assert.equal(routed.code, 0, routed.stderr);
    const completed = await tail.waitFor(/ completed job=id/);
    assert.equal(
      completed.replace(/^\S+ /, ""),
      'default completed job=id\\x9b2J\\u202eevil result="\\u001b]0;owned\\u0007\\u001b[2J"',
    );
    // A long result is cut short: the line stays readable.
    const cut = await tail.waitFor(/ completed job=long-1 /);
    assert.equal(
      cut.replace(/^\S+ /, ""),
      `default completed job=long-1 result="${"x".repeat(76)}...`,
    );
    const failed = await tail.waitFor(/ failed job=nasty-1 /);
    assert.ok(
      failed.endsWith("error=UnrecoverableError: \\x1b[2Jgone\\nline2\\x9b[31m\\u202eevil"),
      failed,
    );
    interrupt(tail.child);
    assert.equal(await tail.exited, 0, tail.stderr());
    assert.doesNotMatch(tail.stdout(), CONTROL);

    const json = runCli(["events", "--json", "--from", "0", "--queue", "default", ...common]);
    await json.waitFor(/"type":"failed"/);
    terminate(json.child);
    assert.equal(await json.exited, 0, json.stderr());
    assert.doesNotMatch(json.stdout(), CONTROL);
    const stored = json.stdout().trimEnd().split("\n").map((l) => JSON.parse(l));
    const done = stored.find((e) => e.type === "completed" && e.jobId === evilId);
    assert.equal(done?.result, evilResult);

    // A registration is untrusted too: what a worker says of its host and queues.
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    try {
      const now = Date.now();
      await storage.registerWorker(
        {
          id: "w\u001b[31m1",
          host: "host\u009b1m",
          pid: 42,
          runtime: "node",
          runtimeVersion: "22.0.0\u202e",
          queues: ["default"],
          concurrency: 4,
          running: 1,
          processed: 7,
          failed: 2,
          startedAt: now - 60_000,
          lastSeen: now,
        },
        "online",
        60_000,
        now,
      );
      const table = await cli(["workers", ...common]);
      assert.equal(table.code, 0, table.stderr);
      assert.doesNotMatch(table.stdout, CONTROL);
      const [header, row, ...rest] = table.stdout.trimEnd().split("\n");
      assert.deepEqual(rest, []);
      assert.match(
        header,
        /^id +host +pid +runtime +queues +concurrency +running +processed +failed +started +last seen$/,
      );
      assert.match(
        row,
        /^w\\x1b\[31m1 +host\\x9b1m +42 +node 22\.0\.0\\u202e +default +4 +1 +7 +2 +\S+Z +\d+s ago$/,
      );
      const listed = await cli(["workers", "--json", ...common]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.doesNotMatch(listed.stdout, CONTROL);
      assert.deepEqual(JSON.parse(listed.stdout).map((w: { host: string }) => w.host), [
        "host\u009b1m",
      ]);
      await storage.unregisterWorker("w\u001b[31m1", Date.now());
      const none = await cli(["workers", ...common]);
      assert.equal(none.stdout, "no live workers\n");
      const noneJson = await cli(["workers", "--json", ...common]);
      assert.equal(noneJson.stdout, "[]\n");
    } finally {
      await storage.close();
    }
  });

  test("workers lists a running `taskmill worker`, and no live workers once it stopped", {
    timeout: 60_000,
  }, async () => {
    const common = ["--redis-url", redis.url, "--prefix", prefix()];
    const worker = runCli(["worker", "--tasks", TASKS, "--concurrency", "3", ...common]);
    const started = await worker.waitFor(/ worker \S+ started on /);
    const id = started.match(/ worker (\S+) started on /)![1];
    const listed = await cli(["workers", ...common]);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout.trimEnd().split("\n").slice(1);
    assert.equal(rows.length, 1, listed.stdout);
    assert.ok(rows[0].startsWith(`${id} `), rows[0]);
    assert.match(
      rows[0],
      new RegExp(` ${worker.child.pid} +${RUNTIME} \\S+ +default +3 +0 +0 +0 `),
    );
    const json = JSON.parse((await cli(["workers", "--json", ...common])).stdout);
    assert.deepEqual(json.map((w: { id: string; pid: number }) => [w.id, w.pid]), [
      [id, worker.child.pid],
    ]);
    terminate(worker.child);
    assert.equal(await worker.exited, 0, worker.stderr());
    const after = await cli(["workers", ...common]);
    assert.equal(after.stdout, "no live workers\n");
  });

  test("schedules lists the schedules with their next run, removes one, and escapes ids", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const common = ["--redis-url", redis.url, "--prefix", p];
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    const nightly = Date.UTC(2030, 0, 1, 1, 30); // 02:30 in Berlin, in winter
    try {
      const queue = new Queue({ storage });
      await queue.schedule("nightly", "mailer", { to: "ops" }, {
        cron: "30 2 * * *",
        tz: "Europe/Berlin",
      });
      await queue.schedule("ping\u001b[31m", "sleepy", null, {
        every: 60_000,
        startAt: nightly,
      }, { queue: "emails", missed: "skip" });
    } finally {
      await storage.close();
    }
    const listed = await cli(["schedules", ...common]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split("\n").map((line) => line.replace(/ +/g, " "));
    assert.equal(lines[0], "id task queue timing missed next run last tick last job");
    assert.match(
      lines[1],
      /^nightly mailer default cron 30 2 \* \* \* \(Europe\/Berlin\) latest \S+Z - -$/,
    );
    assert.equal(
      lines[2],
      `ping\\x1b[31m sleepy emails every 60000 ms skip ${new Date(nightly).toISOString()} - -`,
    );
    assert.doesNotMatch(listed.stdout, CONTROL);
    const json = JSON.parse((await cli(["schedules", "list", "--json", ...common])).stdout);
    assert.deepEqual(json.map((s: { id: string }) => s.id), ["nightly", "ping\u001b[31m"]);
    const removed = await cli(["schedules", "remove", "nightly", ...common]);
    assert.equal(removed.stdout, "removed schedule nightly\n");
    const again = await cli(["schedules", "remove", "nightly", ...common]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, "taskmill: no schedule nightly\n");
    const bad = await cli(["schedules", "purge", ...common]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^taskmill: schedules: unknown action "purge" \(list or remove\); see taskmill schedules --help\n$/,
    );
    const left = JSON.parse((await cli(["schedules", "--json", ...common])).stdout);
    assert.equal(left.length, 1);
  });

  test("stats without --queue lists every queue of the store, with a total row", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const common = ["--redis-url", redis.url, "--prefix", p];
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    try {
      const queue = new Queue({ storage });
      await queue.enqueueMany("sleepy", [{ ms: 0 }, { ms: 0 }]);
      await queue.enqueue("mailer", null, { queue: "emails", delay: 60_000 });
      await queue.pause("emails");
    } finally {
      await storage.close();
    }
    const table = await cli(["stats", ...common]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(
      table.stdout.replace(/ +/g, " "),
      "queue waiting delayed active completed failed paused\n" +
        "default 2 0 0 0 0 no\n" +
        "emails 0 1 0 0 0 yes\n" +
        "(total) 2 1 0 0 0 1\n",
    );
    const json = await cli(["stats", "--json", ...common]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      default: { waiting: 2, delayed: 0, active: 0, completed: 0, failed: 0, paused: false },
      emails: { waiting: 0, delayed: 1, active: 0, completed: 0, failed: 0, paused: true },
    });
    // --queue still picks queues, and a single one has no total row.
    const one = await cli(["stats", "--queue", "emails", ...common]);
    assert.equal(
      one.stdout.replace(/ +/g, " "),
      "queue waiting delayed active completed failed paused\nemails 0 1 0 0 0 yes\n",
    );
  });

  test(
    "examples/deploy/start-worker.sh (the Dockerfile's CMD, the unit's ExecStart): SIGTERM to it " +
      "stops the worker gracefully, exit 0, job handed back, no process left",
    {
      timeout: 90_000,
      skip: (!existsSync(BUILT_CLI) && "the example runs the built package: run npm run build") ||
        (!existsSync("/proc/self/environ") && "looking for orphaned processes needs Linux /proc"),
    },
    async () => {
      // What the docs show starts this script, and nothing in between.
      const unit = readFileSync(join(DEPLOY, "taskmill-worker.service"), "utf8");
      assert.match(unit, /^ExecStart=\/srv\/app\/start-worker\.sh( |$)/m);
      assert.match(unit, /^WorkingDirectory=\/srv\/app$/m);
      const dockerfile = readFileSync(join(DEPLOY, "Dockerfile"), "utf8");
      assert.match(dockerfile, /^CMD \["\.\/start-worker\.sh"\]$/m);
      assert.match(dockerfile, /^COPY .*start-worker\.sh \.\/$/m);

      // An app laid out as the examples expect: node_modules/taskmill and tasks.js.
      const app = mkdtempSync(join(tmpdir(), "taskmill-deploy-"));
      writeFileSync(join(app, "package.json"), '{ "type": "module", "private": true }\n');
      mkdirSync(join(app, "node_modules"));
      symlinkSync(join(ROOT, "npm"), join(app, "node_modules", "taskmill"));
      writeFileSync(
        join(app, "tasks.js"),
        `import { defineTask } from "taskmill";
export const sleepy = defineTask({
  name: "sleepy",
  handler: (payload, ctx) => new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, payload.ms);
    ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(ctx.signal.reason); });
  }),
});
`,
      );
      // Without exec, for contrast: the shell waits for the worker and dies of the SIGTERM.
      const noExec = join(app, "no-exec.sh");
      writeFileSync(
        noExec,
        readFileSync(join(DEPLOY, "start-worker.sh"), "utf8").replace(/^exec /m, "") +
          'echo "worker exited: $?"\n',
        { mode: 0o755 },
      );
      // The script's `node` is the Node running this suite (Deno and Bun: the machine's).
      const path = RUNTIME === "node"
        ? `${dirname(process.execPath)}:${process.env.PATH}`
        : process.env.PATH ?? "";
      const p = prefix();
      const storage = new RedisStorage({ url: redis.url, prefix: p });
      const queue = new Queue({ storage });
      const start = (script: string, tag: string) =>
        runProcess(script, ["--stop-timeout", "500"], app, {
          PATH: path,
          TASKMILL_REDIS_URL: redis.url,
          TASKMILL_PREFIX: p,
          TASKMILL_TEST_RUN: tag,
        });
      const orphans: number[] = [];
      try {
        const job = await queue.enqueue("sleepy", { ms: 60_000 });
        const tag = `deploy-${process.pid}-${Date.now()}`;
        const worker = start(join(DEPLOY, "start-worker.sh"), tag);
        await worker.waitFor(new RegExp(`active sleepy id=${job.id} `), 30_000);
        // exec: the process we started is the worker itself, and the only one.
        assert.deepEqual(processesWith(`TASKMILL_TEST_RUN=${tag}`), [worker.child.pid]);
        terminate(worker.child);
        assert.equal(await worker.exited, 0, worker.stderr());
        assert.match(worker.stdout(), /SIGTERM: stopping/);
        assert.match(worker.stdout(), /worker \S+ stopped/);
        assert.deepEqual(processesWith(`TASKMILL_TEST_RUN=${tag}`), [], "no process left");
        const handedBack = await queue.getJob(job.id);
        assert.equal(handedBack?.state, "waiting", JSON.stringify(handedBack));
        assert.equal(handedBack?.attempt, 0, "a hand-back is not an attempt");

        // The contrast shows the check above can fail: without exec the worker outlives
        // the signalled wrapper, still holding the job.
        const control = `${tag}-no-exec`;
        const wrapped = start(noExec, control);
        await wrapped.waitFor(new RegExp(`active sleepy id=${job.id} `), 30_000);
        terminate(wrapped.child);
        await wrapped.ended;
        orphans.push(...processesWith(`TASKMILL_TEST_RUN=${control}`));
        assert.equal(orphans.length, 1, "the worker is orphaned");
        assert.notEqual(orphans[0], wrapped.child.pid);
        assert.equal((await queue.getJob(job.id))?.state, "active");
      } finally {
        for (const pid of orphans) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        await eventually(
          "the orphan to end",
          () => orphans.every((pid) => !existsSync(`/proc/${pid}`)),
        );
        await storage.close();
        rmSync(app, { recursive: true, force: true });
      }
    },
  );

  test("SIGTERM mid-job: short jobs finish, long ones are handed back, none is lost", {
    timeout: 60_000,
  }, async () => {
    const p = prefix();
    const storage = new RedisStorage({ url: redis.url, prefix: p });
    try {
      const queue = new Queue({ storage });
      const short = await queue.enqueue("sleepy", { ms: 300 });
      const long = await queue.enqueue("sleepy", { ms: 60_000 });
      const worker = runCli([
        "worker",
        "--tasks",
        TASKS,
        "--redis-url",
        redis.url,
        "--prefix",
        p,
        "--concurrency",
        "2",
        "--stop-timeout",
        "1000",
      ]);
      await worker.waitFor(new RegExp(`active sleepy id=${short.id} `));
      await worker.waitFor(new RegExp(`active sleepy id=${long.id} `));
      terminate(worker.child);
      assert.equal(await worker.exited, 0, worker.stderr());
      assert.match(worker.stdout(), new RegExp(`completed sleepy id=${short.id} `));
      assert.doesNotMatch(worker.stdout(), new RegExp(`completed sleepy id=${long.id} `));

      assert.equal((await queue.getJob(short.id))?.state, "completed");
      const handedBack = await queue.getJob(long.id);
      assert.equal(handedBack?.state, "waiting", JSON.stringify(handedBack));
      assert.equal(handedBack?.lease, undefined);

      // Another worker takes it at once, without waiting for a lease to expire.
      const next = await cli([
        "worker",
        "--tasks",
        TASKS,
        "--redis-url",
        redis.url,
        "--prefix",
        p,
        "--max-tasks",
        "1",
      ], { TASKMILL_TEST_FAST: "1" });
      assert.equal(next.code, 0, next.stderr);
      assert.equal((await queue.getJob(long.id))?.state, "completed");
    } finally {
      await storage.close();
    }
  });
});

describe(`CLI on SQLite files, on ${RUNTIME}`, () => {
  after(() => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true }); // the last describe: the tasks files go too
  });
  let files = 0;
  const dbFile = () => join(dir, `jobs-${++files}.db`);

  test(
    "every command works on --sqlite: enqueue, worker, stats, failed, workers, schedules, events, dashboard",
    {
      timeout: 90_000,
    },
    async () => {
      const file = dbFile();
      const db = ["--sqlite", file];
      for (
        const [task, payload] of [["sleepy", '{"ms":0}'], ["sleepy", '{"ms":1}'], ["broken", "{}"]]
      ) {
        const queued = await cli(["enqueue", task, payload, "--tasks", TASKS, ...db]);
        assert.equal(queued.code, 0, queued.stderr);
      }
      const worker = await cli(["worker", "--tasks", TASKS, "--max-tasks", "3", ...db], {
        TASKMILL_TEST_FAST: "1",
      });
      assert.equal(worker.code, 0, worker.stderr);
      assert.match(worker.stdout, /started on .*: storage sqlite .*jobs-\d+\.db/);
      const stats = await cli(["stats", "--json", ...db]);
      assert.equal(stats.code, 0, stats.stderr);
      const counts = JSON.parse(stats.stdout);
      assert.equal(counts.default.completed, 2, stats.stdout);
      assert.equal(counts.default.failed, 1, stats.stdout);
      const failed = await cli(["failed", "list", ...db]);
      assert.equal(failed.code, 0, failed.stderr);
      assert.match(failed.stdout, /it broke/);
      assert.equal((await cli(["workers", ...db])).stdout, "no live workers\n");
      const schedules = await cli(["schedules", ...db]);
      assert.equal(schedules.code, 0, schedules.stderr);
      const tail = runCli(["events", "--from", "0", "--json", ...db]);
      await tail.waitFor(/"type":"completed"/);
      terminate(tail.child);
      assert.equal(await tail.exited, 0, tail.stderr());
      const server = runCli(["dashboard", "--port", "0", ...db]);
      const line = await server.waitFor(/dashboard on http:\/\/127\.0\.0\.1:\d+\//);
      const response = await fetch(line.match(/http:\/\/\S+/)![0]);
      const body = await response.text();
      assert.equal(response.status, 200, body);
      assert.match(body, /data-queue="default"/);
      terminate(server.child);
      assert.equal(await server.exited, 0, server.stderr());
    },
  );

  test(
    "--sqlite with --redis-url or --prefix is a usage error; a file that is no taskmill database is refused, unchanged",
    {
      timeout: 60_000,
    },
    async () => {
      const file = dbFile();
      const both = await cli(["stats", "--sqlite", file, "--redis-url", "redis://127.0.0.1:1"]);
      assert.equal(both.code, 2, both.stderr);
      assert.match(both.stderr, /give --redis-url or --sqlite, not both/);
      const prefixed = await cli(["stats", "--sqlite", file, "--prefix", "p"]);
      assert.equal(prefixed.code, 2, prefixed.stderr);
      assert.match(prefixed.stderr, /--prefix is for Redis/);
      const foreign = join(dir, "notes.txt");
      const text = "these are my notes, not a database\n".repeat(200);
      writeFileSync(foreign, text);
      const refused = await cli(["stats", "--sqlite", foreign]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /--sqlite .*notes\.txt: /);
      assert.equal(readFileSync(foreign, "utf8"), text);
    },
  );

  test("worker --processes 2 --sqlite: two processes on one file run each job once", {
    timeout: 90_000,
  }, async () => {
    const file = dbFile();
    const storage = await SqliteStorage.open({ path: file });
    const queue = new Queue({ storage });
    try {
      const jobs = await queue.enqueueMany(
        "sleepy",
        Array.from({ length: 40 }, () => ({ ms: 20 })),
      );
      const run = runCli(["worker", "--tasks", TASKS, "--processes", "2", "--sqlite", file]);
      await eventually(
        "every job completed",
        () => run.stdout().split("completed sleepy").length > 40,
        60_000,
      );
      terminate(run.child);
      assert.equal(await run.exited, 0, run.stderr());
      for (const job of jobs) {
        const stored = await queue.getJob(job.id);
        assert.equal(stored?.state, "completed", JSON.stringify(stored));
        assert.equal(stored?.attempt, 1, "ran once");
      }
      assert.equal(run.stdout().split("completed sleepy").length - 1, 40, "40 completions logged");
    } finally {
      await storage.close();
    }
  });
});
