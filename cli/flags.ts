/** Flag specs per command, the flag parser and the closest-name suggestion for typos. @module */

import { UsageError } from "./errors.ts";

export type FlagKind = "string" | "int" | "bool" | "list";
export type FlagSpec = Record<string, FlagKind>;
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export const STORAGE_FLAGS: FlagSpec = {
  "redis-url": "string",
  prefix: "string",
  sqlite: "string",
};
export const COMMAND_FLAGS: Record<string, FlagSpec> = {
  worker: {
    ...STORAGE_FLAGS,
    tasks: "string",
    queues: "list",
    concurrency: "int",
    prefetch: "string",
    "max-tasks": "int",
    "lease-ms": "int",
    "stop-timeout": "int",
    "log-level": "string",
    "metrics-port": "int",
    "metrics-host": "string",
    runner: "string",
    "pool-size": "int",
    "max-tasks-per-child": "int",
    "max-memory-mb": "int",
    "max-failures": "int",
    processes: "string",
    autoscale: "string",
  },
  enqueue: {
    ...STORAGE_FLAGS,
    tasks: "string",
    queue: "string",
    delay: "int",
    "run-at": "string",
    id: "string",
    priority: "int",
    group: "string",
    "max-attempts": "int",
    timeout: "int",
    json: "bool",
  },
  stats: { ...STORAGE_FLAGS, queue: "list", json: "bool" },
  events: { ...STORAGE_FLAGS, queue: "list", workers: "bool", json: "bool", from: "string" },
  workers: { ...STORAGE_FLAGS, json: "bool" },
  schedules: { ...STORAGE_FLAGS, json: "bool" },
  failed: { ...STORAGE_FLAGS, queue: "string", limit: "int", all: "bool", json: "bool" },
  dashboard: {
    ...STORAGE_FLAGS,
    port: "int",
    host: "string",
    "base-path": "string",
    "read-only": "bool",
  },
};

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) of two short words. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The closest of `candidates` to `word`, if it is close enough to be a typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}

export function parseFlags(argv: readonly string[], spec: FlagSpec, command: string): {
  flags: FlagValues;
  positional: string[];
} {
  const unknown = (option: string) => {
    const guess = closest(option.replace(/^-+/, ""), Object.keys(spec));
    return new UsageError(
      `unknown option ${option} for ${command}${guess ? ` (did you mean --${guess}?)` : ""}`,
    );
  };
  const flags: FlagValues = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-" || /^-\d/.test(arg)) {
      if (arg.startsWith("-") && !/^-\d/.test(arg) && arg !== "-") throw unknown(arg);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw unknown(`--${name}`);
    if (kind === "bool") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (kind === "int") {
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
      }
      flags[name] = Number(value);
    } else if (kind === "list") {
      const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (items.length === 0) throw new UsageError(`--${name} needs at least one name`);
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), ...items];
    } else {
      if (value === "") throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  return { flags, positional };
}

export function nonNegative(flags: FlagValues, name: string, min = 0): number | undefined {
  const value = flags[name] as number | undefined;
  if (value !== undefined && value < min) {
    throw new UsageError(`--${name} must be at least ${min}, got ${value}`);
  }
  return value;
}
