import type { NewJob, TaskSettings } from "../../core/storage.ts";
import type { QueueData } from "./queue_data.ts";

/**
 * What jobs enqueued together share (their task, queue and options, and the
 * time): one object per batch rather than seven fields in every `Slot`. A
 * million stored jobs are a million live objects that every garbage
 * collection walks, so each byte less per job counts.
 *
 * @example
 * ```ts
 * import { QueueData } from "./queue_data.ts";
 * import { Spec } from "./spec.ts";
 *
 * const job = { id: "a", name: "send", queue: "default", payload: { to: "x" }, priority: 0,
 *   maxAttempts: null, maxStalls: 1, timeout: 0, runAt: 0 };
 * const spec = new Spec(job, new QueueData("default"), 0);
 * console.log(spec.unset, spec.fits({ ...job, id: "b" }, 0)); // true true
 * console.log(spec.fill({ maxAttempts: 5, maxStalls: 1, timeout: 0 }).maxAttempts); // 5
 * ```
 */
export class Spec {
  readonly name: string;
  readonly queue: QueueData;
  readonly priority: number;
  /** Null (as the next two): the task's, filled in at reserve (`ReserveRequest.taskDefaults`). */
  readonly maxAttempts: number | null;
  readonly maxStalls: number | null;
  readonly timeout: number | null;
  readonly enqueuedAt: number;
  /** The jobs' dedupe key (`NewJob.dedupe.key`); undefined without dedupe. */
  readonly dedupeKey: string | undefined;
  /** Until when the key is held whatever the job's state: enqueuedAt + ttl (-Infinity: no ttl). */
  readonly holdUntil: number;
  /** The jobs' group (`NewJob.group`); undefined without one. */
  readonly group: string | undefined;
  /** Whether a setting is left to the task (a field, not a getter: reserve reads it per job). */
  readonly unset: boolean;
  /**
   * With a setting unset: the spec with them filled from `filledFrom`, made
   * for the first job of the batch reserved with those settings and shared
   * by the rest (a worker passes the same settings object every time).
   */
  filled: Spec | undefined = undefined;
  filledFrom: TaskSettings | undefined = undefined;

  constructor(
    job: Pick<
      NewJob,
      "name" | "priority" | "maxAttempts" | "maxStalls" | "timeout" | "dedupe" | "group"
    >,
    queue: QueueData,
    now: number,
  ) {
    this.name = job.name;
    this.queue = queue;
    this.priority = job.priority;
    this.maxAttempts = job.maxAttempts;
    this.maxStalls = job.maxStalls;
    this.timeout = job.timeout;
    this.enqueuedAt = now;
    const dedupe = job.dedupe;
    this.dedupeKey = dedupe?.key;
    this.holdUntil = dedupe?.ttl == null ? -Infinity : now + dedupe.ttl;
    this.group = job.group;
    this.unset = job.maxAttempts === null || job.maxStalls === null || job.timeout === null;
  }

  /** This spec with its unset settings taken from `settings`. */
  fill(settings: TaskSettings): Spec {
    if (this.filledFrom !== settings) {
      this.filled = new Spec(
        {
          name: this.name,
          priority: this.priority,
          maxAttempts: this.maxAttempts ?? settings.maxAttempts,
          maxStalls: this.maxStalls ?? settings.maxStalls,
          timeout: this.timeout ?? settings.timeout,
          dedupe: this.dedupeKey === undefined ? undefined : {
            key: this.dedupeKey,
            mode: "unique",
            ttl: this.holdUntil === -Infinity ? null : this.holdUntil - this.enqueuedAt,
            delay: null,
          },
          group: this.group,
        },
        this.queue,
        this.enqueuedAt,
      );
      this.filledFrom = settings;
    }
    return this.filled!;
  }

  /** Whether `job`, enqueued at `now`, shares this spec (`Object.is`: a -0 reads back as -0). */
  fits(job: NewJob, now: number): boolean {
    return job.name === this.name && job.queue === this.queue.name &&
      Object.is(job.priority, this.priority) && Object.is(job.maxAttempts, this.maxAttempts) &&
      Object.is(job.maxStalls, this.maxStalls) && Object.is(job.timeout, this.timeout) &&
      now === this.enqueuedAt && job.group === this.group &&
      (job.dedupe === undefined ? this.dedupeKey === undefined : this.#fitsDedupe(job, now));
  }

  #fitsDedupe(job: NewJob, now: number): boolean {
    const { key, ttl } = job.dedupe!;
    return key === this.dedupeKey && (ttl === null ? -Infinity : now + ttl) === this.holdUntil;
  }
}
