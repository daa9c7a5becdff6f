/**
 * Smoke test of the packed npm package, as a user gets it: `npm pack` the
 * built `npm/` directory, install the tarball (and ioredis) into a fresh
 * temporary project, then
 *
 * - type-check a Node app and a Bun app against the shipped `.d.ts` files
 *   with `tsc --noEmit` (Node: `@types/node`, NodeNext resolution; Bun:
 *   `@types/bun`, bundler resolution);
 * - run them: each imports `taskmill`, `taskmill/memory`, `taskmill/redis`
 *   and `taskmill/testing`, and runs jobs on memory and on a real
 *   redis-server started for the occasion;
 * - run the installed `taskmill` bin: `npx taskmill`, and `bunx --bun taskmill`
 *   over a `.ts` tasks module as the README shows it (plain `bunx` runs the bin
 *   on Node, by its shebang: it must run the worker where that Node imports
 *   TypeScript, and say to add `--bun` where it cannot);
 * - `require()` the package from CommonJS: the ES module itself where Node's
 *   require() loads ES modules, and an "ESM only" error that says to use
 *   import where it does not (`--no-experimental-require-module`).
 *
 * Prints one line per check and ends with `smoke: P passed, F failed`.
 * Usage: `deno run -A scripts/smoke_npm.ts` after `npm run build`. A `node`
 * on PATH older than 22.5 is replaced by Node 24 (scripts/install_node.sh).
 *
 * @module
 */

import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startRedis } from "../tests/_redis_server.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");

/**
 * Puts Node 24 (scripts/install_node.sh) first on PATH unless the `node` there
 * is a supported one (22.5+): npm, npx and the bin's `#!/usr/bin/env node`
 * all run whatever `node` PATH finds, and the machine's may be end-of-life.
 */
function ensureSupportedNode(): void {
  let version = "";
  try {
    version = execFileSync("node", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    // no node on PATH: install one
  }
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 5)) return;
  const node = execFileSync("bash", [join(ROOT, "scripts", "install_node.sh"), "24"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  console.log(`node on PATH is ${version || "missing"}: using ${node}`);
  process.env.PATH = `${dirname(node)}:${process.env.PATH}`;
}
ensureSupportedNode();
const NODE = process.env.TASKMILL_SMOKE_NODE ?? "node";

/** The @types/bun version the repository pins (so npm finds it in its cache). */
function bunTypesVersion(): string {
  const file = join(ROOT, "node_modules", "@types", "bun", "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeout = 120_000,
): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, {
      cwd,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, NO_COLOR: "1", ...env },
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let passed = 0;
let failed = 0;

async function check(name: string, body: () => Promise<void>): Promise<boolean> {
  try {
    await body();
    passed++;
    console.log(`ok   ${name}`);
    return true;
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

async function must(
  file: string,
  args: string[],
  cwd: string,
  expect?: RegExp,
): Promise<Run> {
  const result = await run(file, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `${file} ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  if (expect !== undefined && !expect.test(result.stdout)) {
    throw new Error(`${file} ${args.join(" ")}: output does not match ${expect}\n${result.stdout}`);
  }
  return result;
}

/** The app both runtimes run: jobs on memory and on Redis, through every entry point. */
const APP = (runtime: string, readUrl: string) =>
  `import { defineTask, exponential, type JobRecord, Queue, type Storage, Worker } from "taskmill";
import { MemoryStorage } from "taskmill/memory";
import { RedisStorage } from "taskmill/redis";
import { FakeClock } from "taskmill/testing";
import { main } from "taskmill/cli";
import { threadPool } from "taskmill/runners";

const double = defineTask({
  name: "double",
  retry: exponential({ base: 10 }),
  handler: (n: number, ctx) => ({ doubled: n * 2, attempt: ctx.job.attempt }),
});

async function runJobs(storage: Storage): Promise<number[]> {
  const queue = new Queue({ storage });
  const worker = new Worker({ storage, tasks: [double], concurrency: 4 });
  await worker.start();
  const jobs: JobRecord<number>[] = await queue.enqueueMany(double, [1, 2, 3, 4, 5]);
  const results: number[] = [];
  for (const job of jobs) {
    const result = await queue.result<{ doubled: number }>(job.id, { timeout: 10_000 });
    results.push(result.doubled);
  }
  await worker.stop();
  await storage.close();
  return results;
}

const url: string = ${readUrl};
const clock = new FakeClock();
const memory = await runJobs(new MemoryStorage({ clock: undefined }));
const redis = await runJobs(new RedisStorage({ url, prefix: "smoke-${runtime}" }));
if (memory.join() !== "2,4,6,8,10" || redis.join() !== "2,4,6,8,10") {
  throw new Error(\`wrong results: \${memory} \${redis}\`);
}
if (typeof main !== "function" || typeof threadPool !== "function" || typeof clock.now() !== "number") throw new Error("bad exports");
console.log("ok ${runtime}", memory.join(), redis.join());
`;

const NODE_APP = APP("node", 'process.argv[2] ?? ""').replace(
  'import { main } from "taskmill/cli";',
  'import { main } from "taskmill/cli";\nimport process from "node:process";',
);
const BUN_APP = APP("bun", 'Bun.env.REDIS_URL ?? ""');

function tsconfig(
  types: string,
  resolution: string,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module: resolution === "bundler" ? "ESNext" : "NodeNext",
        moduleResolution: resolution,
        strict: true,
        skipLibCheck: false,
        types: [types],
        lib: ["ES2022"],
        ...extra,
      },
    },
    null,
    2,
  );
}

async function mainSmoke(): Promise<void> {
  if (!existsSync(join(ROOT, "npm", "package.json"))) {
    throw new Error("npm/ is missing: run `npm run build` first");
  }
  const dir = mkdtempSync(join(tmpdir(), "taskmill-smoke-"));
  const redis = await startRedis();
  try {
    let tarball = "";
    await check("npm pack: the tarball holds the package and nothing else", async () => {
      const packed = await must(
        "npm",
        ["pack", "--json", "--pack-destination", dir],
        join(ROOT, "npm"),
      );
      const [info] = JSON.parse(packed.stdout) as {
        filename: string;
        files: { path: string }[];
      }[];
      tarball = join(dir, info.filename);
      const files = info.files.map((f) => f.path);
      for (
        const file of [
          "package.json",
          "README.md",
          "LICENSE",
          "mod.js",
          "mod.cjs",
          "mod.d.ts",
          "testing.js",
          "adapters/redis/mod.js",
          "adapters/memory/mod.d.ts",
          "cli/main.js",
          "dashboard/mod.js",
          "runners/mod.js",
          "runners/child.js",
        ]
      ) {
        if (!files.includes(file)) throw new Error(`${file} is not in the tarball`);
      }
      const stray = files.filter((f) =>
        /(^|\/)(tests?|npm_test)\/|_test\.|\.ts$/.test(f) && !f.endsWith(".d.ts")
      );
      if (stray.length > 0) throw new Error(`unexpected files in the tarball: ${stray.join(", ")}`);
    });
    if (tarball === "") return;

    const project = join(dir, "app");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "smoke-app", private: true, type: "module" }, null, 2),
    );
    const installed = await check(
      "npm install <tarball> ioredis into a fresh project",
      async () => {
        await must("npm", [
          "install",
          "--no-audit",
          "--no-fund",
          "--prefer-offline",
          "--loglevel=error",
          tarball,
          "ioredis@^6.0.0",
          // A Bun user's own typings (with the @types/node they pull in).
          `@types/bun@${bunTypesVersion()}`,
        ], project);
      },
    );
    if (!installed) return;

    writeFileSync(join(project, "node_app.ts"), NODE_APP);
    writeFileSync(join(project, "bun_app.ts"), BUN_APP);
    writeFileSync(
      join(project, "tsconfig.node.json"),
      // The repository's @types/node (the Node 22 typings: the oldest Node supported).
      tsconfig("node", "NodeNext", {
        outDir: "dist",
        typeRoots: [join(ROOT, "node_modules", "@types")],
      })
        .replace(
          /\n}$/,
          ',\n  "files": ["node_app.ts"]\n}',
        ),
    );
    writeFileSync(
      join(project, "tsconfig.bun.json"),
      tsconfig("bun", "bundler", { noEmit: true, allowImportingTsExtensions: true }).replace(
        /\n}$/,
        ',\n  "files": ["bun_app.ts"]\n}',
      ),
    );
    const tsc = join(BIN, "tsc");
    await check(
      "tsc: the Node app type-checks against the shipped .d.ts (@types/node)",
      async () => {
        await must(tsc, ["-p", "tsconfig.node.json", "--noEmit"], project);
      },
    );
    await check("tsc: the Bun app type-checks against the shipped .d.ts (@types/bun)", async () => {
      await must(tsc, ["-p", "tsconfig.bun.json"], project);
    });
    await check(`node: runs jobs on memory and Redis (${NODE})`, async () => {
      await must(tsc, ["-p", "tsconfig.node.json"], project);
      await must(NODE, ["dist/node_app.js", redis.url], project, /^ok node 2,4,6,8,10 2,4,6,8,10/);
    });
    await check("bun: runs jobs on memory and Redis", async () => {
      const result = await run(join(BIN, "bun"), ["bun_app.ts"], project, { REDIS_URL: redis.url });
      if (result.code !== 0) throw new Error(result.stdout + result.stderr);
      if (!/^ok bun 2,4,6,8,10 2,4,6,8,10/.test(result.stdout)) throw new Error(result.stdout);
    });
    await check("the taskmill bin: npx taskmill --help, and under bun", async () => {
      await must("npx", ["--no-install", "taskmill", "--help"], project, /taskmill worker --tasks/);
      await must(
        join(BIN, "bun"),
        [
          "node_modules/taskmill/cli/main.js",
          "stats",
          "--redis-url",
          redis.url,
          "--queue",
          "default",
          "--json",
        ],
        project,
        /"default":\{"waiting":0/,
      );
    });
    await check(
      "bunx --bun taskmill, as the README shows it: enqueue and a worker on Bun over tasks.ts",
      async () => {
        writeFileSync(
          join(project, "tasks.ts"),
          `import { defineTask } from "taskmill";
export const triple = defineTask({ name: "triple", queue: "maths", handler: (n: number): number => n * 3 });
`,
        );
        const common = [
          "--tasks",
          "./tasks.ts",
          "--redis-url",
          redis.url,
          "--prefix",
          "smoke-bunx",
        ];
        const bunx = join(BIN, "bunx");
        const enqueued = await must(bunx, [
          "--bun",
          "taskmill",
          "enqueue",
          "triple",
          "14",
          "--json",
          ...common,
        ], project);
        const job = JSON.parse(enqueued.stdout) as { id: string; queue: string };
        if (job.queue !== "maths") {
          throw new Error(`the job went to ${job.queue}, not the task's queue`);
        }
        await must(
          bunx,
          ["--bun", "taskmill", "worker", "--max-tasks", "1", ...common],
          project,
          new RegExp(`started on bun [^\\n]*queues maths[\\s\\S]*completed triple id=${job.id} `),
        );
        // Without --bun, bunx runs the bin's #!/usr/bin/env node (bunx finds `node` on PATH, as
        // the shebang does): a Node that imports TypeScript (22.18+) runs the worker; on one that
        // cannot, the error must say what to type instead. A second job gives the former work.
        const nodeTs = await run("node", ["-p", "Boolean(process.features.typescript)"], project);
        const second = JSON.parse(
          (await must(
            bunx,
            ["--bun", "taskmill", "enqueue", "triple", "15", "--json", ...common],
            project,
          ))
            .stdout,
        ) as { id: string };
        const plain = await run(
          bunx,
          ["taskmill", "worker", "--max-tasks", "1", ...common],
          project,
        );
        if (nodeTs.stdout.trim() === "true") {
          if (
            plain.code !== 0 || !new RegExp(`completed triple id=${second.id} `).test(plain.stdout)
          ) {
            throw new Error(
              `plain bunx on a Node that imports TypeScript failed:\n${plain.stderr}`,
            );
          }
        } else if (
          plain.code === 0 ||
          !/run `bunx --bun taskmill \.\.\.` to run it on Bun/.test(plain.stderr)
        ) {
          throw new Error(
            `plain bunx on a Node without TypeScript: no --bun hint:\n${plain.stderr}`,
          );
        }
      },
    );
    await check(
      "require('taskmill') from CommonJS: the ES module, or an ESM-only error",
      async () => {
        writeFileSync(
          join(project, "require.cjs"),
          `const { Queue } = require("taskmill");
const { RedisStorage } = require("taskmill/redis");
import("taskmill").then((m) => console.log("required", m.Queue === Queue, typeof RedisStorage));
`,
        );
        await must(NODE, ["require.cjs"], project, /^required true function\n/);
        const old = await run(NODE, ["--no-experimental-require-module", "require.cjs"], project);
        if (
          old.code === 0 || !/Error: taskmill is ESM only .*Use import instead/.test(old.stderr)
        ) {
          throw new Error(`no ESM-only error without require(esm):\n${old.stderr}`);
        }
      },
    );
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await mainSmoke().catch((error) => {
  failed++;
  console.log(`FAIL smoke test setup: ${error instanceof Error ? error.message : error}`);
});
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
