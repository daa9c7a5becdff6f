// The SQLite benchmark: taskmill's SqliteStorage side by side with plainjob,
// liteque, sidequest's SQLite backend and Deno KV's queue, n no-op jobs on a
// database file, bulk enqueue then processing at each concurrency. Every run
// is a process of its own, on the runtime it needs, in a temporary directory
// deleted after it (bench/sqlite_run.ts for taskmill and Deno KV,
// bench/sqlite_peers/run.mjs for the peers); this module starts them, on
// whichever runtime runs the benchmark.
//
// The peers are installed by this module, not by the project's `npm ci`, into
// .tmp/bench-sqlite-peers (plainjob, sidequest) and .tmp/bench-sqlite-liteque
// (liteque, which needs an older better-sqlite3; see its package.json), with
// `npm ci` from the lockfiles in bench/sqlite_peers/. better-sqlite3, which
// liteque and sidequest need everywhere and plainjob off Bun, fetches prebuilt
// binaries from GitHub, which cannot be reached here; it is built from source
// (node-gyp: python3, make and a C++ compiler, which scripts/ensure_build_tools.sh
// installs from apt where they are missing) against Node 24's headers.
// That takes about a minute per directory, once; a marker file remembers it.

import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PEERS_SRC = join(ROOT, "bench", "sqlite_peers");

/** What one run measured, jobs/s. */
export interface SqliteRun {
  enqueue: number;
  process: number;
}

/** A system on a runtime, and how to start one run of it. */
export interface SqliteSystem {
  key: string;
  label: string;
  runtime: string;
  /** The command of one run: argv (the run's n, c and directory appended) and its cwd. */
  command?: { argv: string[]; cwd: string };
  /** Why it cannot run here (then `command` is unset). */
  skip?: string;
  /** taskmill's rows, to which the peers are compared. */
  taskmill?: boolean;
}

function runProcess(
  argv: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The first line of `stderr` that names an error, without ANSI colours, else its last line. */
function reason(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? "no output";
  return line.length > 400 ? line.slice(0, 400) + "…" : line;
}

/** The runtimes' executables. */
export interface Runtimes {
  deno: string;
  bun: string;
  node24: string;
  denoVersion: string;
  bunVersion: string;
  node24Version: string;
}

function versionOf(exe: string, args: string[]): string {
  const out = spawnSync(exe, args, { encoding: "utf8" });
  return (out.stdout ?? "").split("\n")[0].replace(/^v/, "").replace(/^deno /, "").split(" ")[0];
}

export function findRuntimes(): Runtimes {
  const g = globalThis as { Deno?: { execPath(): string } };
  const bin = join(ROOT, "node_modules", ".bin");
  const deno = g.Deno ? g.Deno.execPath() : join(bin, "deno");
  const bun = join(bin, "bun");
  const node24 = spawnSync("bash", [join(ROOT, "scripts", "install_node.sh"), "24"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).stdout.trim();
  return {
    deno,
    bun,
    node24,
    denoVersion: versionOf(deno, ["--version"]),
    bunVersion: versionOf(bun, ["--version"]),
    node24Version: versionOf(node24, ["--version"]),
  };
}

/** One install directory of peers: where, from which manifest, and whether it is ready. */
export interface PeerDir {
  dir: string;
  ready: boolean;
  /** Why not, when not. */
  error?: string;
  /** Installed versions by package name. */
  versions: Record<string, string>;
}

/**
 * Installs (once) the peers of `src` (a folder with package.json and
 * package-lock.json) into `dir` with `npm ci`, better-sqlite3 built for
 * `node24`, and copies the run scripts there.
 */
export async function ensurePeers(
  src: string,
  dir: string,
  node24: string,
  log: (line: string) => void,
): Promise<PeerDir> {
  mkdirSync(dir, { recursive: true });
  const lock = readFileSync(join(src, "package-lock.json"), "utf8");
  const stamp = JSON.stringify({ lock: lock.length + ":" + hash(lock), node24 });
  const marker = join(dir, ".installed");
  const result: PeerDir = { dir, ready: false, versions: {} };
  if (!existsSync(marker) || readFileSync(marker, "utf8") !== stamp) {
    rmSync(join(dir, "node_modules"), { recursive: true, force: true });
    copyFileSync(join(src, "package.json"), join(dir, "package.json"));
    copyFileSync(join(src, "package-lock.json"), join(dir, "package-lock.json"));
    // Node 24's own headers: the build must match the Node that loads it.
    const nodedir = dirname(dirname(node24));
    log(
      `installing the SQLite peers into ${dir} (npm ci; better-sqlite3 built from source, ~1 min)`,
    );
    // node-gyp's tool chain (g++, make, python3), from apt where it is missing.
    const tools = await runProcess(
      ["bash", join(ROOT, "scripts", "ensure_build_tools.sh")],
      dir,
      900_000,
    );
    if (tools.code !== 0) {
      result.error = `no C++ tool chain to build better-sqlite3: ${reason(tools.stderr)}`;
      return result;
    }
    const npm = await runProcess(
      ["npm", "ci", "--no-audit", "--no-fund", `--nodedir=${nodedir}`],
      dir,
      900_000,
    );
    if (npm.code !== 0) {
      result.error = `npm ci failed: ${reason(npm.stderr)}`;
      return result;
    }
    writeFileSync(marker, stamp);
  }
  for (const f of ["run.mjs", "noop_job.mjs"]) copyFileSync(join(PEERS_SRC, f), join(dir, f));
  const manifest = JSON.parse(readFileSync(join(src, "package.json"), "utf8"));
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const pkg = join(dir, "node_modules", name, "package.json");
    if (existsSync(pkg)) result.versions[name] = JSON.parse(readFileSync(pkg, "utf8")).version;
  }
  result.ready = true;
  return result;
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16);
}

/** Whether better-sqlite3 (of `peers`) loads on a runtime; why not, if not. */
async function betterSqlite3Loads(exe: string[], peers: PeerDir): Promise<string | undefined> {
  const out = await runProcess(
    [...exe, "run.mjs", "better-sqlite3", "1", "1", tmpdir()],
    peers.dir,
    60_000,
  );
  return out.code === 0 ? undefined : reason(out.stderr);
}

/** The systems of the benchmark, each on the runtimes it can run on here. */
export async function sqliteSystems(
  rt: Runtimes,
  log: (line: string) => void,
): Promise<{ systems: SqliteSystem[]; versions: Record<string, string> }> {
  const run = join(ROOT, "bench", "sqlite_run.ts");
  const deno = `Deno ${rt.denoVersion}`;
  const bun = `Bun ${rt.bunVersion}`;
  const node = `Node ${rt.node24Version}`;
  const systems: SqliteSystem[] = [
    {
      key: "taskmill-deno",
      label: "taskmill (SqliteStorage)",
      runtime: deno,
      taskmill: true,
      command: { argv: [rt.deno, "run", "-A", run, "taskmill"], cwd: ROOT },
    },
    {
      key: "taskmill-keep-deno",
      label: "taskmill, keeping 1 000",
      runtime: deno,
      command: { argv: [rt.deno, "run", "-A", run, "taskmill-keep"], cwd: ROOT },
    },
    {
      key: "taskmill-node",
      label: "taskmill (SqliteStorage)",
      runtime: node,
      taskmill: true,
      command: { argv: [rt.node24, run, "taskmill"], cwd: ROOT },
    },
    {
      key: "taskmill-bun",
      label: "taskmill (SqliteStorage)",
      runtime: bun,
      taskmill: true,
      command: { argv: [rt.bun, run, "taskmill"], cwd: ROOT },
    },
    {
      key: "denokv",
      label: `Deno KV queue`,
      runtime: deno,
      command: { argv: [rt.deno, "run", "-A", "--unstable-kv", run, "denokv"], cwd: ROOT },
    },
  ];
  const main = await ensurePeers(
    PEERS_SRC,
    join(ROOT, ".tmp", "bench-sqlite-peers"),
    rt.node24,
    log,
  );
  const lite = await ensurePeers(
    join(PEERS_SRC, "liteque"),
    join(ROOT, ".tmp", "bench-sqlite-liteque"),
    rt.node24,
    log,
  );
  const versions = { ...main.versions, ...lite.versions };
  const v = (name: string, peers: PeerDir) => peers.versions[name] ?? "?";
  const peer = (
    key: string,
    label: string,
    runtime: string,
    peers: PeerDir,
    exe: string[],
    system: string,
    skip?: string,
  ): SqliteSystem => ({
    key,
    label,
    runtime,
    ...(skip ?? (!peers.ready ? peers.error : undefined)
      ? { skip: skip ?? peers.error }
      : { command: { argv: [...exe, "run.mjs", system], cwd: peers.dir } }),
  });
  // Where better-sqlite3 cannot load, the peers that need it cannot run: asked of each runtime.
  const noBetter: Record<string, string | undefined> = {};
  if (main.ready) {
    noBetter.node = await betterSqlite3Loads([rt.node24], main);
    noBetter.deno = await betterSqlite3Loads([rt.deno, "run", "-A"], main);
    noBetter.bun = await betterSqlite3Loads([rt.bun], main);
  }
  const liteOn: Record<string, string | undefined> = {};
  if (lite.ready) {
    liteOn.node = await betterSqlite3Loads([rt.node24], lite);
    liteOn.deno = await betterSqlite3Loads([rt.deno, "run", "-A"], lite);
    liteOn.bun = await betterSqlite3Loads([rt.bun], lite);
  }
  const denoRun = [rt.deno, "run", "-A"];
  const because = (why: string | undefined) => why && `better-sqlite3 does not load: ${why}`;
  const pj = `plainjob ${v("plainjob", main)}`;
  const lq = `liteque ${v("liteque", lite)}`;
  const sq = `sidequest ${v("sidequest", main)} (SQLite)`;
  const bs3 = `better-sqlite3 ${v("better-sqlite3", main)}`;
  const bs3lite = `better-sqlite3 ${v("better-sqlite3", lite)}`;
  systems.push(
    peer("plainjob-bun", `${pj}, bun:sqlite`, bun, main, [rt.bun], "plainjob"),
    peer(
      "plainjob-node",
      `${pj}, ${bs3}`,
      node,
      main,
      [rt.node24],
      "plainjob",
      because(noBetter.node),
    ),
    peer("plainjob-deno", `${pj}, ${bs3}`, deno, main, denoRun, "plainjob", because(noBetter.deno)),
    peer(
      "liteque-node",
      `${lq}, ${bs3lite}`,
      node,
      lite,
      [rt.node24],
      "liteque",
      because(liteOn.node),
    ),
    peer("liteque-deno", `${lq}, ${bs3lite}`, deno, lite, denoRun, "liteque", because(liteOn.deno)),
    peer("liteque-bun", `${lq}, ${bs3lite}`, bun, lite, [rt.bun], "liteque", because(liteOn.bun)),
    peer(
      "sidequest-node",
      `${sq}, ${bs3}`,
      node,
      main,
      [rt.node24],
      "sidequest",
      because(noBetter.node),
    ),
    peer(
      "sidequest-deno",
      `${sq}, ${bs3}`,
      deno,
      main,
      denoRun,
      "sidequest",
      because(noBetter.deno),
    ),
    peer("sidequest-bun", `${sq}, ${bs3}`, bun, main, [rt.bun], "sidequest", because(noBetter.bun)),
  );
  return { systems, versions };
}

/** One run of `system` with `n` jobs at concurrency `c`, in a fresh temporary directory. */
export async function runOnce(system: SqliteSystem, n: number, c: number): Promise<SqliteRun> {
  const dir = mkdtempSync(join(tmpdir(), `taskmill-bench-${system.key}-`));
  try {
    const { argv, cwd } = system.command!;
    const out = await runProcess([...argv, String(n), String(c), dir], cwd, 1_800_000);
    const last = out.stdout.trim().split("\n").at(-1) ?? "";
    if (out.code !== 0 || !last.startsWith("{")) {
      throw new Error(`exit ${out.code}: ${reason(out.stderr)}`);
    }
    return JSON.parse(last) as SqliteRun;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
