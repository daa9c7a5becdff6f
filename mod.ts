/**
 * taskmill: a background job queue for TypeScript, the same on Deno, Bun and
 * Node. Enqueue jobs with a {@linkcode Queue}, run them with a
 * {@linkcode Worker}: retries with backoff, delays, timeouts, concurrency,
 * leases with crash recovery, a dead-letter set, events and metrics. The core
 * has no dependencies; time comes from an injected {@linkcode Clock} and
 * persistence from an injected {@linkcode Storage} (`MemoryStorage` here,
 * `RedisStorage` from `@taskmill/taskmill/redis`).
 *
 * @example
 * ```ts
 * import { defineTask, exponential, MemoryStorage, Queue, Worker } from "@taskmill/taskmill";
 *
 * const sendEmail = defineTask({
 *   name: "send_email",
 *   maxAttempts: 5,
 *   retry: exponential({ base: 1_000, factor: 2, max: 60_000, jitter: true }),
 *   timeout: 30_000,
 *   handler: (payload: { to: string }) => ({ sent: payload.to }),
 * });
 *
 * const storage = new MemoryStorage();
 * const queue = new Queue({ storage });
 * const worker = new Worker({ storage, tasks: [sendEmail], concurrency: 10 });
 * await worker.start();
 * const job = await queue.enqueue(sendEmail, { to: "a@b.c" });
 * console.log(await queue.result(job.id, { timeout: 1_000 })); // { sent: "a@b.c" }
 * await worker.stop();
 * ```
 *
 * @module
 */

export { defineTask, JOB_STATES } from "./core/task.ts";
export type {
  Handler,
  JobError,
  JobInfo,
  JobRecord,
  JobState,
  JsonValue,
  Lease,
  Task,
  TaskContext,
  TaskOptions,
} from "./core/task.ts";
export { defaultRetry, exponential, fixed } from "./core/retry.ts";
export type { ExponentialOptions, RetryStrategy } from "./core/retry.ts";
export { Semaphore } from "./core/semaphore.ts";
export { systemClock } from "./core/clock.ts";
export type { Clock } from "./core/clock.ts";
export { FakeClock } from "./core/fake_clock.ts";
export { MAX_PRIORITY, Queue } from "./core/queue.ts";
export type {
  EnqueueDedupe,
  EnqueueOptions,
  EnqueueOutcome,
  QueueOptions,
  ResultOptions,
  ScheduleOptions,
  TaskRef,
} from "./core/queue.ts";
export type { ScheduleTiming } from "./core/schedule_timing.ts";
export { EventStream } from "./core/event_stream.ts";
export type { EventStreamOptions, MissedEvents } from "./core/event_stream.ts";
export { DEFAULT_EVENT_BACKLOG, WORKER_STREAM } from "./core/storage_events.ts";
export type {
  EventBase,
  EventPage,
  EventRead,
  JobEventBase,
  QueueEvent,
  QueueEventBase,
  QueueSummary,
  StorageEvent,
  WorkerEvent,
  WorkerInfo,
} from "./core/storage_events.ts";
export { PRESENCE_HEARTBEATS } from "./core/worker_presence.ts";
export { AUTO_PREFETCH_MAX, AUTO_PREFETCH_MS, STOP_GRACE_MS, Worker } from "./core/worker.ts";
export type {
  Middleware,
  MiddlewareContext,
  StopOptions,
  WorkerDuty,
  WorkerHealth,
  WorkerOptions,
  WorkerState,
} from "./core/worker.ts";
export { Emitter } from "./core/events.ts";
export type { Listener, WorkerEvents } from "./core/events.ts";
export type { WorkerMetrics } from "./core/metrics.ts";
export { DURATION_BUCKETS, QUEUE_WAIT_BUCKETS } from "./core/metric_registry.ts";
export type { HistogramSnapshot, TaskSeriesSnapshot } from "./core/metric_registry.ts";
export {
  escapeLabelValue,
  metricsHandler,
  PROMETHEUS_CONTENT_TYPE,
  prometheusText,
} from "./core/prometheus.ts";
export type { MetricsHandlerOptions, MetricSource, PrometheusInput } from "./core/prometheus.ts";
export { DEFAULT_RETENTION, MAX_ERROR_HISTORY } from "./core/storage.ts";
export type { GroupInfo, GroupLimits, QueueLimits, RateLimit } from "./core/storage_limits.ts";
export type { GroupLimitOptions, LimitOptions } from "./core/limit_options.ts";
export { MAX_CONCURRENCY, MAX_RATE, MAX_RATE_WINDOW } from "./core/storage_limits.ts";
export {
  MAX_MISSED_TICKS,
  MISSED_TICKS,
  scheduleJobId,
  SKIP_GRACE_MS,
} from "./core/storage_schedules.ts";
export { Cron, CRON_SEARCH_YEARS, CronSyntaxError, cronTimingKey } from "./core/cron.ts";
export type {
  DueSchedules,
  FireResult,
  MissedTicks,
  NewSchedule,
  ScheduleFire,
  ScheduleJob,
  ScheduleRecord,
  UpsertScheduleResult,
} from "./core/storage_schedules.ts";
export type {
  Counts,
  EnqueueResult,
  JobDedupe,
  ListOptions,
  NewJob,
  ReserveRequest,
  ReserveResult,
  Retention,
  RetentionPolicy,
  Settlement,
  SettleOptions,
  Storage,
  TaskSettings,
} from "./core/storage.ts";
export {
  JobFailedError,
  JobTimeoutError,
  LeaseLostError,
  RateLimitedError,
  ResultTimeoutError,
  StorageError,
  StorageWarning,
  UnrecoverableError,
  WorkerStoppedError,
} from "./core/errors.ts";
export { MemoryStorage } from "./adapters/memory/mod.ts";
export type { MemoryStorageOptions } from "./adapters/memory/mod.ts";
