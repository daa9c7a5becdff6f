/**
 * A worker's entry in the storage's registry of live workers: `online` at
 * start, a `heartbeat` on each tick (apart from lease renewal, so a failing
 * registry never affects leases), and `unregisterWorker` at stop.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { Storage } from "./storage.ts";
import type { WorkerInfo } from "./storage_events.ts";
import { runtimeInfo } from "./_runtime_info.ts";

/** What a registration tells of the worker at the time: see {@linkcode WorkerInfo}. */
export interface WorkerCounters {
  running: number;
  processed: number;
  failed: number;
}

/** How many heartbeats a registration outlives: a worker killed without stop() leaves `workers()` within 3. */
export const PRESENCE_HEARTBEATS = 3;

/**
 * Registers one worker and keeps its registration fresh. Calls run one
 * after another, so an unregister is never overtaken by a late heartbeat
 * (which would list a stopped worker again until its registration expired).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { systemClock } from "./clock.ts";
 * import { WorkerPresence } from "./worker_presence.ts";
 *
 * const storage = new MemoryStorage();
 * const presence = new WorkerPresence(storage, systemClock, {
 *   id: "w1", queues: ["default"], concurrency: 1, heartbeatMs: 5_000,
 * }, () => ({ running: 0, processed: 0, failed: 0 }));
 * await presence.online();
 * console.log((await storage.workers(systemClock.now())).length); // 1
 * await presence.offline();
 * ```
 */
export class WorkerPresence {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #base: Omit<WorkerInfo, "running" | "processed" | "failed" | "lastSeen">;
  readonly #counters: () => WorkerCounters;
  #last: Promise<void> = Promise.resolve();
  #gone = false;

  /** A presence for the worker `worker`, registered for 3 heartbeats at a time. */
  constructor(
    storage: Storage,
    clock: Clock,
    worker: { id: string; queues: readonly string[]; concurrency: number; heartbeatMs: number },
    counters: () => WorkerCounters,
  ) {
    this.#storage = storage;
    this.#clock = clock;
    this.#ttlMs = PRESENCE_HEARTBEATS * worker.heartbeatMs;
    this.#base = {
      id: worker.id,
      ...runtimeInfo(),
      queues: worker.queues.slice(),
      concurrency: worker.concurrency,
      startedAt: clock.now(),
    };
    this.#counters = counters;
  }

  /** Registers the worker (its `online` event). Rejects when the storage call fails. */
  online(): Promise<void> {
    return this.#register("online");
  }

  /** Renews the registration (a `heartbeat` event). Rejects when the storage call fails. */
  heartbeat(): Promise<void> {
    return this.#gone ? Promise.resolve() : this.#register("heartbeat");
  }

  /** Removes the registration (an `offline` event); no heartbeat registers it again. */
  offline(): Promise<void> {
    this.#gone = true;
    return this.#then(() => this.#storage.unregisterWorker(this.#base.id, this.#clock.now()));
  }

  #register(kind: "online" | "heartbeat"): Promise<void> {
    return this.#then(() => {
      const now = this.#clock.now();
      if (kind === "online") this.#base.startedAt = now;
      const info: WorkerInfo = { ...this.#base, ...this.#counters(), lastSeen: now };
      return this.#storage.registerWorker(info, kind, this.#ttlMs, now);
    });
  }

  /** Runs `call` after the calls before it, whether they failed or not. */
  #then(call: () => Promise<void>): Promise<void> {
    const next = this.#last.catch(() => {}).then(call);
    this.#last = next;
    return next;
  }
}
