// Shared helpers of the benchmark: argument parsing, timing, a countdown
// that resolves when N things happened, percentiles and table printing.

import process from "node:process";

/** Options of one benchmark run. */
export interface BenchOptions {
  /** Jobs per Redis run. */
  n: number;
  /** Jobs per in-memory run. */
  memoryN: number;
  /** Concurrencies of the Redis runs. */
  c: number[];
  /** Concurrencies of the in-memory runs. */
  memoryC: number[];
  /** Jobs of the latency run. */
  latencyN: number;
  /** Groups of the flow-control run, and jobs per group. */
  groups: number;
  groupSize: number;
  /** Jobs of the CPU-bound run, and ms of hashing each. */
  cpuJobs: number;
  cpuMs: number;
  /** Jobs per SQLite run, and its concurrencies. */
  sqliteN: number;
  sqliteC: number[];
  /** Rounds of every throughput measurement; tables show the median. */
  repeat: number;
  /** Which systems to run. */
  systems: Set<string>;
  /** Print JSON instead of tables. */
  json: boolean;
}

export const ALL_SYSTEMS = [
  "taskmill",
  "bullmq",
  "beequeue",
  "memory",
  "latency",
  "flow",
  "cpu",
  "sqlite",
];

const HELP = `Usage: npm run bench -- [options]

  --n N              jobs per Redis run (default 50000)
  --c 1,10,50        worker concurrencies of the Redis runs (default 1,10,50)
  --memory-n N       jobs per in-memory run (default 1000000)
  --memory-c 1,50    concurrencies of the in-memory runs (default 1,50)
  --latency-n N      jobs sent one at a time in the latency run (default 1000)
  --groups G         groups of the flow-control run (default 1000)
  --group-size S     jobs per group there (default 50)
  --cpu-jobs N       jobs of the CPU-bound run (default 400)
  --cpu-ms MS        ms of hashing per CPU-bound job (default 20)
  --sqlite-n N       jobs per SQLite run (default 50000)
  --sqlite-c 1,50    concurrencies of the SQLite runs (default 1,50)
  --repeat R         rounds of every throughput figure, interleaved; tables show
                     each figure's median (default 1)
  --systems LIST     any of ${ALL_SYSTEMS.join(",")} (default: all)
  --json             machine-readable output
`;

/** Parses `--name value` options (and `--name=value`). */
export function parseOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const options: BenchOptions = {
    n: 50_000,
    memoryN: 1_000_000,
    c: [1, 10, 50],
    memoryC: [1, 50],
    latencyN: 1_000,
    groups: 1_000,
    groupSize: 50,
    cpuJobs: 400,
    cpuMs: 20,
    sqliteN: 50_000,
    sqliteC: [1, 50],
    repeat: 1,
    systems: new Set(ALL_SYSTEMS),
    json: false,
  };
  const count = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer`);
    return n;
  };
  const list = (v: string, name: string) => v.split(",").map((x) => count(x.trim(), name));
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = argv[i].split("=", 2) as [string, string | undefined];
    const next = () => value ?? argv[++i] ?? "";
    switch (name) {
      case "--n":
        options.n = count(next(), "n");
        break;
      case "--c":
        options.c = list(next(), "c");
        break;
      case "--memory-n":
        options.memoryN = count(next(), "memory-n");
        break;
      case "--memory-c":
        options.memoryC = list(next(), "memory-c");
        break;
      case "--groups":
        options.groups = count(next(), "groups");
        break;
      case "--group-size":
        options.groupSize = count(next(), "group-size");
        break;
      case "--cpu-jobs":
        options.cpuJobs = count(next(), "cpu-jobs");
        break;
      case "--cpu-ms":
        options.cpuMs = count(next(), "cpu-ms");
        break;
      case "--sqlite-n":
        options.sqliteN = count(next(), "sqlite-n");
        break;
      case "--sqlite-c":
        options.sqliteC = list(next(), "sqlite-c");
        break;
      case "--latency-n":
        options.latencyN = count(next(), "latency-n");
        break;
      case "--repeat":
        options.repeat = count(next(), "repeat");
        break;
      case "--systems": {
        const names = next().split(",").map((s) => s.trim()).filter(Boolean);
        for (const s of names) {
          if (!ALL_SYSTEMS.includes(s)) {
            throw new RangeError(`--systems: unknown "${s}"; pick from ${ALL_SYSTEMS}`);
          }
        }
        options.systems = new Set(names);
        break;
      }
      case "--json":
        options.json = true;
        break;
      case "--help":
      case "-h":
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new RangeError(`unknown option ${argv[i]}\n\n${HELP}`);
    }
  }
  return options;
}

/** Jobs per second. */
export function perSecond(jobs: number, ms: number): number {
  return Math.round(jobs / (ms / 1000));
}

/** Resolves once `tick()` was called `n` times. */
export function countdown(n: number): { tick: () => void; done: Promise<void> } {
  let left = n;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (n <= 0) resolve();
  return {
    tick: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}

/** Rejects after `ms` (so a stuck system fails the run instead of hanging it). */
export function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The p-th percentile (0..100) of `samples`. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Splits `n` payloads into batches of `size`. */
export function* batches(n: number, size: number): Generator<{ i: number }[]> {
  for (let start = 0; start < n; start += size) {
    const batch: { i: number }[] = [];
    for (let i = start; i < Math.min(n, start + size); i++) batch.push({ i });
    yield batch;
  }
}

/** Renders rows as a Markdown table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => typeof c === "number" ? fmt(c) : c))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) =>
    "| " + r.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  return [line(cells[0]), "| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |"]
    .concat(cells.slice(1).map(line)).join("\n");
}

/** 12345 → "12 345". */
export function fmt(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** The runtime this runs on, e.g. "Deno 2.9.6". */
export function runtime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${process.versions.node}`;
}

/** The median of `values` (the upper one of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
