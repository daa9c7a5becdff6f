// TEMPORARY, until branch obs-core (Queue.events) is merged into main: a
// minimal tail over Storage.readEvents so `taskmill events` can run and be
// tested meanwhile. Delete this file, and its one use in
// commands/events.ts, once `Queue.prototype.events` exists.

import type { Storage } from "../core/storage.ts";
import type { StorageEvent } from "../core/storage_events.ts";

/** How often the queue list is re-read when no queues were named. */
const RELIST_MS = 1000;

/** The options `Queue.events` takes. */
export interface EventsOptions {
  queues?: string[];
  workers?: boolean;
  after?: Record<string, string>;
  signal?: AbortSignal;
}

/** Tails the store's events until `signal` aborts. */
export async function* tailEvents(
  storage: Storage,
  options: EventsOptions,
): AsyncGenerator<StorageEvent> {
  const signal = options.signal;
  const after: Record<string, string> = { ...options.after };
  let queues = options.queues ?? (await storage.queues()).map((q) => q.name);
  let listed = Date.now();
  while (!signal?.aborted) {
    if (options.queues === undefined && Date.now() - listed >= RELIST_MS) {
      const names = (await storage.queues()).map((q) => q.name);
      // A queue that appeared after the start: all of its events are new.
      for (const name of names) if (!queues.includes(name)) after[name] ??= "0";
      queues = names;
      listed = Date.now();
    }
    if (queues.length === 0 && !options.workers) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, RELIST_MS);
        signal?.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), {
          once: true,
        });
      });
      continue;
    }
    const page = await storage.readEvents({
      queues,
      workers: options.workers,
      after,
      limit: 100,
      maxWaitMs: options.queues === undefined ? RELIST_MS : 5000,
      signal,
    });
    Object.assign(after, page.cursors);
    for (const event of page.events) yield event;
  }
}
