/**
 * Typed events of a Worker. Listeners are plain functions; one that throws
 * (or rejects) never breaks the worker: the error is re-emitted as `error`.
 *
 * @module
 */

import type { JobError, JobRecord, JsonValue } from "./task.ts";

/** Payloads of every event a {@linkcode Worker} emits, by name. */
export interface WorkerEvents {
  /** A job started running on this worker. */
  active: { job: JobRecord };
  /** A handler reported progress. */
  progress: { job: JobRecord; progress: JsonValue };
  /** A job completed; its result is stored. */
  completed: { job: JobRecord; result: unknown; duration: number };
  /** An attempt failed and the job will run again at `runAt`. */
  retrying: { job: JobRecord; error: JobError; runAt: number; delay: number };
  /**
   * A handler threw `RateLimitedError`: the job is waiting again (the
   * attempt not counted), and its group, or its queue, is held until `holdUntil`.
   */
  rateLimited: { job: JobRecord; retryAfter: number; holdUntil: number };
  /** A job failed for good and is in the dead-letter set. */
  failed: { job: JobRecord; error: JobError; duration: number };
  /** This worker lost the lease of a job it held (it ran too long or storage was unreachable). */
  stalled: { job: JobRecord; reason: string };
  /** The worker is running and fetching jobs. */
  online: { workerId: string };
  /** The worker renewed its leases. */
  heartbeat: { workerId: string; active: number; at: number };
  /**
   * The worker began to stop on its own: `maxTasks` reached, or
   * `maxFailures` failed attempts in a row (`message` says which, and the
   * last error). Not emitted for a `stop()` call.
   */
  stopping: { workerId: string; reason: "maxTasks" | "maxFailures"; message: string };
  /** The worker stopped. */
  offline: { workerId: string };
  /** Something went wrong outside a handler (storage, a listener); the worker goes on. */
  error: { error: unknown; during: string };
}

/** A listener for event `K`. */
export type Listener<E, K extends keyof E> = (event: E[K]) => void | Promise<void>;

/**
 * A small typed event emitter. Chosen over `EventTarget` because a throwing
 * `EventTarget` listener is reported as an uncaught error by some runtimes,
 * and a queue worker must not crash because of one.
 *
 * @example
 * ```ts
 * import { Emitter } from "@taskmill/taskmill";
 *
 * const emitter = new Emitter<{ ping: { n: number }; error: { error: unknown; during: string } }>();
 * emitter.on("ping", ({ n }) => console.log("ping", n));
 * emitter.emit("ping", { n: 1 });
 * ```
 */
export class Emitter<E extends { error: { error: unknown; during: string } }> {
  #listeners = new Map<keyof E, Set<Listener<E, keyof E>>>();

  /** Adds a listener. Returns a function that removes it. */
  on<K extends keyof E>(name: K, listener: Listener<E, K>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, set = new Set());
    set.add(listener as Listener<E, keyof E>);
    return () => this.off(name, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof E>(name: K, listener: Listener<E, K>): () => void {
    const off = this.on(name, (event) => {
      off();
      return listener(event);
    });
    return off;
  }

  /** Removes a listener. */
  off<K extends keyof E>(name: K, listener: Listener<E, K>): void {
    this.#listeners.get(name)?.delete(listener as Listener<E, keyof E>);
  }

  /** Whether anything listens to `name` (lets callers skip building an event). */
  has(name: keyof E): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Calls every listener of `name` with `event`; listener errors become `error` events. */
  emit<K extends keyof E>(name: K, event: E[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined || set.size === 0) return;
    for (const listener of set) {
      try {
        const returned = listener(event);
        if (returned && typeof (returned as Promise<void>).then === "function") {
          (returned as Promise<void>).then(undefined, (error) => this.#listenerFailed(name, error));
        }
      } catch (error) {
        this.#listenerFailed(name, error);
      }
    }
  }

  #listenerFailed(name: keyof E, error: unknown): void {
    // An `error` listener that throws has nowhere left to report to: drop it
    // rather than recurse or crash.
    if (name === "error") return;
    this.emit("error", { error, during: `${String(name)} listener` } as E["error"]);
  }
}
