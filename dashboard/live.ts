/**
 * `${basePath}/events`: the store's events as Server-Sent Events, for the
 * pages to refresh their live parts. Each message's data is a small JSON
 * summary (`type`, `queue`, `jobId`, `at`, `workerId`), never a payload or
 * result. The stream follows every queue (new ones join) and the workers,
 * and ends when the request's signal aborts (the client went away) or the
 * body is cancelled. A storage that keeps no events answers 204 (EventSource
 * then stops trying).
 *
 * @module
 */

import type { StorageEvent } from "../core/storage_events.ts";
import { WORKER_STREAM } from "../core/storage_events.ts";
import type { DashboardContext } from "./context.ts";

/** A comment line every this many ms keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** Whether the storage keeps events (an adapter's `eventBacklog` 0 turns them off). */
function eventsKept(context: DashboardContext): boolean {
  return context.storage.eventBacklog > 0;
}

/** The summary a page gets of one event. */
function summary(event: StorageEvent): Record<string, unknown> {
  if ("queue" in event) {
    return {
      type: event.type,
      queue: event.queue,
      jobId: "jobId" in event ? event.jobId : undefined,
      at: event.at,
    };
  }
  return { type: event.type, workerId: event.worker.id, at: event.at };
}

/**
 * The `text/event-stream` response. It starts with a `: connected` comment
 * once it follows the streams (an event after that is sent).
 *
 * @example
 * ```ts ignore
 * const response = await eventsResponse(context, request.signal);
 * ```
 */
export async function eventsResponse(
  context: DashboardContext,
  signal: AbortSignal,
): Promise<Response> {
  if (!eventsKept(context)) {
    // 204 tells EventSource not to reconnect: the pages stay as rendered.
    return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  }
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) stop.abort();
  // Start at the end of every stream now, so an event after this response is sent.
  const names = (await context.storage.queues()).map((q) => q.name);
  const ends = await context.storage.readEvents({
    queues: names,
    workers: true,
    after: {},
    limit: 1,
    maxWaitMs: 0,
  });
  const after: Record<string, string> = { ...ends.cursors };
  after[WORKER_STREAM] ??= "0";
  const events = context.queue.events({ workers: true, after, signal: stop.signal });
  const encoder = new TextEncoder();
  let keepalive: ReturnType<typeof setInterval> | undefined;
  const finish = () => {
    clearInterval(keepalive);
    signal.removeEventListener("abort", onAbort);
    stop.abort();
    void events.return();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": connected\nretry: 3000\n\n"));
      keepalive = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(": keepalive\n\n"));
        } catch {
          finish();
        }
      }, KEEPALIVE_MS);
      void (async () => {
        try {
          for await (const event of events) {
            const stream = "queue" in event ? event.queue : WORKER_STREAM;
            controller.enqueue(
              encoder.encode(
                `id: ${stream}:${event.id}\ndata: ${JSON.stringify(summary(event))}\n\n`,
              ),
            );
          }
        } catch {
          // A storage error ends this stream; EventSource reconnects after `retry`.
        } finally {
          finish();
          try {
            controller.close();
          } catch {
            // already cancelled by the client
          }
        }
      })();
    },
    cancel() {
      finish();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
