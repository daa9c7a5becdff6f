/**
 * Prometheus text exposition (format 0.0.4) of workers' metrics and of the
 * queues' counts, and a fetch-style `(Request) => Response` handler serving
 * it. Metric names are `taskmill_...` (or your prefix): `_total` for
 * counters, `_seconds` for durations.
 *
 * Families:
 * - `taskmill_attempts_total{queue,task,outcome}` counter: attempts stored
 *   as completed, failed (for good) or retried (releases are not counted);
 * - `taskmill_stalls_total{queue,task}` counter: leases lost;
 * - `taskmill_handler_duration_seconds{queue,task}` histogram;
 * - `taskmill_queue_wait_seconds{queue,task}` histogram: from due (`runAt`) to started;
 * - `taskmill_jobs{queue,state}` gauge, `taskmill_queue_paused{queue}` gauge (1 paused);
 * - `taskmill_workers_alive` gauge, and per live worker
 *   `taskmill_worker_running{worker}` and `taskmill_worker_concurrency{worker}`.
 *
 * Series of several workers in one process with the same labels are summed
 * (Prometheus tells processes apart by its own `instance` label).
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { StorageError } from "./errors.ts";
import type { HistogramSnapshot, TaskSeriesSnapshot } from "./metric_registry.ts";
import type { Storage } from "./storage.ts";
import type { QueueSummary, WorkerInfo } from "./storage_events.ts";

/** The content type of the 0.0.4 text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Anything with labeled series to expose: a `Worker`. */
export interface MetricSource {
  /** Its series now (see `Worker.metricSeries`). */
  metricSeries(): TaskSeriesSnapshot[];
}

/** What {@linkcode prometheusText} exposes; every part is optional. */
export interface PrometheusInput {
  /** Workers of this process (their counters and histograms, summed by labels). */
  workers?: readonly MetricSource[];
  /** Series as plain data, added to the workers' (e.g. from another source). */
  series?: readonly TaskSeriesSnapshot[];
  /** The store's queues (`storage.queues()`): jobs per state, paused. */
  queues?: readonly QueueSummary[];
  /** The live workers of the store (`storage.workers(now)`). */
  liveWorkers?: readonly WorkerInfo[];
  /** Metric name prefix. Default "taskmill". */
  prefix?: string;
}

const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : "\\" + c);
}

/** A sample value: integers as they are, `+Inf`/`-Inf`/`NaN` spelled as Prometheus does. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labels(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/** Builds the text: one family at a time, HELP and TYPE once each. */
class Exposition {
  readonly #lines: string[] = [];
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): string {
    const full = `${this.#prefix}_${name}`;
    this.#lines.push(`# HELP ${full} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.#lines.push(`# TYPE ${full} ${type}`);
    return full;
  }

  sample(name: string, pairs: readonly (readonly [string, string])[], value: number): void {
    this.#lines.push(`${name}${labels(pairs)} ${formatValue(value)}`);
  }

  histogram(name: string, pairs: readonly (readonly [string, string])[], h: HistogramSnapshot) {
    h.bounds.forEach((bound, i) => {
      this.sample(`${name}_bucket`, [...pairs, ["le", formatValue(bound)]], h.counts[i]);
    });
    this.sample(`${name}_bucket`, [...pairs, ["le", "+Inf"]], h.count);
    this.sample(`${name}_sum`, pairs, h.sum);
    this.sample(`${name}_count`, pairs, h.count);
  }

  text(): string {
    return this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
  }
}

function addHistogram(into: HistogramSnapshot, h: HistogramSnapshot): HistogramSnapshot {
  return {
    bounds: into.bounds,
    counts: into.counts.map((c, i) => c + (h.counts[i] ?? 0)),
    sum: into.sum + h.sum,
    count: into.count + h.count,
  };
}

/** Every series of `input`, those with the same (queue, task) summed. */
function mergedSeries(input: PrometheusInput): TaskSeriesSnapshot[] {
  const merged = new Map<string, TaskSeriesSnapshot>();
  const all = [...(input.workers ?? []).flatMap((w) => w.metricSeries()), ...(input.series ?? [])];
  for (const s of all) {
    const key = JSON.stringify([s.queue, s.task]);
    const seen = merged.get(key);
    if (seen === undefined) {
      merged.set(key, s);
      continue;
    }
    merged.set(key, {
      ...seen,
      completed: seen.completed + s.completed,
      failed: seen.failed + s.failed,
      retried: seen.retried + s.retried,
      stalls: seen.stalls + s.stalls,
      duration: addHistogram(seen.duration, s.duration),
      queueWait: addHistogram(seen.queueWait, s.queueWait),
    });
  }
  return [...merged.values()];
}

/**
 * The Prometheus text exposition (format 0.0.4) of `input`: the workers'
 * counters and histograms per queue and task, the queues' job counts and
 * paused flags, and the store's live workers. A family with no samples is
 * left out. Serve it with {@linkcode PROMETHEUS_CONTENT_TYPE}.
 *
 * @example
 * ```ts
 * import { prometheusText } from "@taskmill/taskmill";
 *
 * const text = prometheusText({
 *   queues: [{
 *     name: "default",
 *     paused: false,
 *     counts: { waiting: 3, delayed: 0, active: 1, completed: 10, failed: 0 },
 *   }],
 * });
 * console.log(text.includes('taskmill_jobs{queue="default",state="waiting"} 3')); // true
 * ```
 */
export function prometheusText(input: PrometheusInput = {}): string {
  const prefix = input.prefix ?? "taskmill";
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(
      `Cannot build Prometheus text: prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*, got ${
        JSON.stringify(prefix)
      }`,
    );
  }
  const out = new Exposition(prefix);
  const series = mergedSeries(input);
  if (series.length > 0) {
    let name = out.family(
      "attempts_total",
      "counter",
      "Attempts finished and stored, by queue, task and outcome (completed, failed for good, retried).",
    );
    for (const s of series) {
      const at = [["queue", s.queue], ["task", s.task]] as const;
      out.sample(name, [...at, ["outcome", "completed"]], s.completed);
      out.sample(name, [...at, ["outcome", "failed"]], s.failed);
      out.sample(name, [...at, ["outcome", "retried"]], s.retried);
    }
    name = out.family(
      "stalls_total",
      "counter",
      "Jobs whose lease a worker lost, by queue and task.",
    );
    for (const s of series) out.sample(name, [["queue", s.queue], ["task", s.task]], s.stalls);
    name = out.family(
      "handler_duration_seconds",
      "histogram",
      "Handler durations, by queue and task.",
    );
    for (const s of series) out.histogram(name, [["queue", s.queue], ["task", s.task]], s.duration);
    name = out.family(
      "queue_wait_seconds",
      "histogram",
      "Time from due (runAt) to started, by queue and task.",
    );
    for (const s of series) {
      out.histogram(name, [["queue", s.queue], ["task", s.task]], s.queueWait);
    }
  }
  const queues = input.queues ?? [];
  if (queues.length > 0) {
    let name = out.family("jobs", "gauge", "Jobs by queue and state.");
    for (const q of queues) {
      for (const [state, n] of Object.entries(q.counts)) {
        out.sample(name, [["queue", q.name], ["state", state]], n);
      }
    }
    name = out.family("queue_paused", "gauge", "Whether the queue is paused (1) or not (0).");
    for (const q of queues) out.sample(name, [["queue", q.name]], q.paused ? 1 : 0);
  }
  const live = input.liveWorkers;
  if (live !== undefined) {
    const name = out.family("workers_alive", "gauge", "Workers registered and alive.");
    out.sample(name, [], live.length);
    if (live.length > 0) {
      const running = out.family("worker_running", "gauge", "Jobs running now, by worker.");
      for (const w of live) out.sample(running, [["worker", w.id]], w.running);
      const most = out.family("worker_concurrency", "gauge", "Most jobs at once, by worker.");
      for (const w of live) out.sample(most, [["worker", w.id]], w.concurrency);
    }
  }
  return out.text();
}

/** What {@linkcode metricsHandler} exposes. */
export interface MetricsHandlerOptions {
  /** The store whose queues and live workers to expose (read on every request). */
  storage?: Pick<Storage, "queues" | "workers">;
  /** Workers of this process whose counters and histograms to expose. */
  workers?: readonly MetricSource[];
  /** The clock `storage.workers(now)` is asked with. Default: the system clock. */
  clock?: Clock;
  /** Metric name prefix. Default "taskmill". */
  prefix?: string;
}

/**
 * A fetch-style handler answering GET and HEAD with
 * {@linkcode prometheusText} (on any path: mount it where you like, e.g.
 * `/metrics`); other methods get 405. When the storage cannot be read it
 * answers 503 with the error's first line (storage errors name no
 * credentials).
 *
 * @example
 * ```ts
 * import { defineTask, MemoryStorage, metricsHandler, Worker } from "@taskmill/taskmill";
 *
 * const storage = new MemoryStorage();
 * const noop = defineTask({ name: "noop", handler: () => {} });
 * const worker = new Worker({ storage, tasks: [noop] });
 * const handler = metricsHandler({ workers: [worker] });
 * const response = await handler(new Request("http://localhost/metrics"));
 * console.log(response.status); // 200
 * // Deno.serve({ port: 9464 }, handler);
 * ```
 */
export function metricsHandler(
  options: MetricsHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const { storage, workers, prefix } = options;
  const clock = options.clock ?? systemClock;
  prometheusText({ prefix }); // a bad prefix fails here, not on every scrape
  return async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed: use GET or HEAD\n", {
        status: 405,
        headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      });
    }
    let queues: QueueSummary[] | undefined;
    let liveWorkers: WorkerInfo[] | undefined;
    if (storage !== undefined) {
      try {
        [queues, liveWorkers] = await Promise.all([
          storage.queues(),
          storage.workers(clock.now()),
        ]);
      } catch (error) {
        // A StorageError's message names no credentials; anything else may
        // (a driver's raw error): only its name is told.
        const reason = error instanceof StorageError
          ? error.message.split("\n")[0]
          : error instanceof Error
          ? error.name
          : "unknown error";
        return new Response(`Storage unavailable: ${reason}\n`, {
          status: 503,
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      }
    }
    const text = prometheusText({ workers, queues, liveWorkers, prefix });
    return new Response(request.method === "HEAD" ? null : text, {
      status: 200,
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
    });
  };
}
