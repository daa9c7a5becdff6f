import type { WorkerInfo } from "../../core/storage_events.ts";
import type { EventStream } from "./event_stream.ts";
import { Kind } from "./stored_event.ts";

/** A live registration: what the worker said, and until when it counts. */
interface Registration {
  info: WorkerInfo;
  expiresAt: number;
}

/**
 * MemoryStorage's registry of live workers (`registerWorker`,
 * `unregisterWorker`, `workers`), adding each change to the workers'
 * stream (none when `stream` is undefined: events are off). Expired
 * registrations are removed by the next call whose `now` is at or past
 * their expiry: O(workers) per call, and workers are few.
 *
 * @example
 * ```ts
 * import { WorkerRegistry } from "./worker_registry.ts";
 *
 * const registry = new WorkerRegistry(undefined);
 * registry.register({ id: "w1", host: "", pid: 0, runtime: "deno", runtimeVersion: "",
 *   queues: ["default"], concurrency: 1, running: 0, processed: 0, failed: 0,
 *   startedAt: 0, lastSeen: 0 }, "online", 1_000, 0);
 * console.log(registry.workers(999).length, registry.workers(1_000).length); // 1 0
 * ```
 */
export class WorkerRegistry {
  readonly #live = new Map<string, Registration>();
  readonly #stream: EventStream | undefined;

  /** An empty registry writing its events to `stream`. */
  constructor(stream: EventStream | undefined) {
    this.#stream = stream;
  }

  /** Records `worker` (a copy) as alive until `now + ttlMs`, with its `kind` event. */
  register(worker: WorkerInfo, kind: "online" | "heartbeat", ttlMs: number, now: number): void {
    this.#expire(now);
    const info = { ...worker, queues: worker.queues.slice() };
    this.#live.set(info.id, { info, expiresAt: now + ttlMs });
    this.#stream?.add(kind === "online" ? Kind.online : Kind.heartbeat, now, "", 0, info);
  }

  /** Removes `id`'s registration, with an `offline` event (reason "stopped"). */
  unregister(id: string, now: number): void {
    const registration = this.#live.get(id);
    if (registration === undefined) return;
    this.#live.delete(id);
    this.#stream?.add(Kind.offline, now, "", 0, registration.info);
  }

  /** Copies of the registrations alive at `now`, by id. */
  workers(now: number): WorkerInfo[] {
    this.#expire(now);
    return [...this.#live.values()]
      .map(({ info }) => ({ ...info, queues: info.queues.slice() }))
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  #expire(now: number): void {
    for (const [id, registration] of this.#live) {
      if (registration.expiresAt > now) continue;
      this.#live.delete(id); // deleting the current entry while iterating a Map is safe
      this.#stream?.add(Kind.offline, now, "", 1, registration.info);
    }
  }
}
