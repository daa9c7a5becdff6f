/**
 * A worker's labeled metrics for Prometheus: per queue and task, the
 * attempts finished by outcome, the stalls, and histograms of handler
 * duration and queue wait with fixed buckets. Cheap on the hot path: each
 * (task, queue) pair has one {@linkcode TaskSeries} made on its first job,
 * found again through the task's entry (made once per task) by comparing the
 * job's queue with the few queues seen so far; no string is built per job.
 *
 * @module
 */

/** Upper bounds, in seconds, of the handler duration histogram's buckets. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
]);

/** Upper bounds, in seconds, of the queue wait histogram's buckets (due to started). */
export const QUEUE_WAIT_BUCKETS: readonly number[] = Object.freeze([
  0.001,
  0.005,
  0.01,
  0.05,
  0.1,
  0.5,
  1,
  5,
  10,
  30,
  60,
  300,
  900,
  3600,
]);

/**
 * A histogram's state as plain data: `counts[i]` is cumulative (observations
 * <= `bounds[i]`), and its last entry, one past the bounds, counts them all
 * (the `+Inf` bucket).
 */
export interface HistogramSnapshot {
  /** Upper bounds of the buckets, in seconds, ascending. */
  bounds: readonly number[];
  /** Cumulative counts: one per bound, then the `+Inf` bucket (= `count`). */
  counts: number[];
  /** Sum of the observations, in seconds. */
  sum: number;
  /** Observations. */
  count: number;
}

/** One (queue, task) pair's metrics as plain data, from `worker.metricSeries()`. */
export interface TaskSeriesSnapshot {
  /** The queue the jobs came from. */
  queue: string;
  /** The task's name. */
  task: string;
  /** Attempts completed (stored). */
  completed: number;
  /** Attempts that failed the job for good (stored). */
  failed: number;
  /** Attempts failed and retried (stored). */
  retried: number;
  /** Jobs whose lease this worker lost (its `stalled` events). */
  stalls: number;
  /** Handler durations (attempts whose handler ran to an outcome). */
  duration: HistogramSnapshot;
  /** From due (`runAt`) to started. */
  queueWait: HistogramSnapshot;
}

/**
 * A histogram with fixed buckets, observed in milliseconds and reported in
 * seconds.
 *
 * @example
 * ```ts
 * import { DURATION_BUCKETS, Histogram } from "./metric_registry.ts";
 * const h = new Histogram(DURATION_BUCKETS);
 * h.observe(3); // ms
 * console.log(h.snapshot().counts[1]); // 1: one observation <= 0.005 s
 * ```
 */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #boundsMs: Float64Array;
  /** Per bucket, not cumulative; the last is the `+Inf` bucket's own. */
  readonly #counts: Float64Array;
  #sumMs = 0;

  /** A histogram with buckets `bounds` (seconds, ascending). */
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#boundsMs = Float64Array.from(bounds, (s) => s * 1000);
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation of `ms` milliseconds. */
  observe(ms: number): void {
    const bounds = this.#boundsMs;
    const n = bounds.length;
    let i = 0;
    while (i < n && ms > bounds[i]) i++; // `le` is inclusive
    this.#counts[i]++;
    this.#sumMs += ms;
  }

  /** Its state now, cumulative, in seconds. */
  snapshot(): HistogramSnapshot {
    const counts: number[] = [];
    let total = 0;
    for (const c of this.#counts) counts.push(total += c);
    return { bounds: this.#bounds, counts, sum: this.#sumMs / 1000, count: total };
  }
}

/**
 * The metrics of one task's jobs from one queue. Its fields are counted
 * directly by the worker's attempt runner and outcomes.
 *
 * @example
 * ```ts
 * import { TaskSeries } from "./metric_registry.ts";
 * const series = new TaskSeries("default", "send_email");
 * series.completed++;
 * series.duration.observe(12);
 * console.log(series.snapshot().completed); // 1
 * ```
 */
export class TaskSeries {
  /** The queue. */
  readonly queue: string;
  /** The task's name. */
  readonly task: string;
  /** Attempts completed. */
  completed = 0;
  /** Attempts that failed the job for good. */
  failed = 0;
  /** Attempts failed and retried. */
  retried = 0;
  /** Leases lost. */
  stalls = 0;
  /** Handler durations (ms in, seconds out). */
  readonly duration: Histogram = new Histogram(DURATION_BUCKETS);
  /** Waits from due to started (ms in, seconds out). */
  readonly queueWait: Histogram = new Histogram(QUEUE_WAIT_BUCKETS);

  /** The series of `task`'s jobs from `queue`. */
  constructor(queue: string, task: string) {
    this.queue = queue;
    this.task = task;
  }

  /** Its values now, as plain data. */
  snapshot(): TaskSeriesSnapshot {
    return {
      queue: this.queue,
      task: this.task,
      completed: this.completed,
      failed: this.failed,
      retried: this.retried,
      stalls: this.stalls,
      duration: this.duration.snapshot(),
      queueWait: this.queueWait.snapshot(),
    };
  }
}

/**
 * One task's series, one per queue its jobs came from. A worker serves a
 * few queues, so a scan comparing names beats hashing the job's queue
 * string (a fresh one per job from Redis) into a Map.
 *
 * @example
 * ```ts
 * import { MetricRegistry } from "./metric_registry.ts";
 * const entry = new MetricRegistry().task("send_email"); // once, at start
 * entry.forQueue("default").completed++; // per job
 * ```
 */
export class TaskEntry {
  /** The task's name. */
  readonly name: string;
  readonly #series: TaskSeries[] = [];
  readonly #registry: MetricRegistry;

  /** The entry of task `name` in `registry` (made by {@linkcode MetricRegistry.task}). */
  constructor(name: string, registry: MetricRegistry) {
    this.name = name;
    this.#registry = registry;
  }

  /** The series of this task's jobs from `queue`, made on first use. */
  forQueue(queue: string): TaskSeries {
    const all = this.#series;
    for (let i = 0; i < all.length; i++) if (all[i].queue === queue) return all[i];
    const series = new TaskSeries(queue, this.name);
    all.push(series);
    this.#registry.added(series);
    return series;
  }
}

/**
 * Every series of one worker. The worker asks for each task's entry once
 * (`task(name)`), keeps it, and counts through it.
 *
 * @example
 * ```ts
 * import { MetricRegistry } from "./metric_registry.ts";
 * const registry = new MetricRegistry();
 * const series = registry.task("resize").forQueue("images");
 * series.retried++;
 * console.log(registry.snapshot()[0].retried); // 1
 * ```
 */
export class MetricRegistry {
  readonly #tasks = new Map<string, TaskEntry>();
  readonly #all: TaskSeries[] = [];

  /** The entry of task `name`, made on first use. */
  task(name: string): TaskEntry {
    let entry = this.#tasks.get(name);
    if (entry === undefined) this.#tasks.set(name, entry = new TaskEntry(name, this));
    return entry;
  }

  /** The series of `task`'s jobs from `queue` (the slow path: two lookups). */
  series(queue: string, task: string): TaskSeries {
    return this.task(task).forQueue(queue);
  }

  /** A series was made (by its task's entry). */
  added(series: TaskSeries): void {
    this.#all.push(series);
  }

  /** Every series now, in the order they were first used. */
  snapshot(): TaskSeriesSnapshot[] {
    return this.#all.map((series) => series.snapshot());
  }
}
