/**
 * Throughput and failures of the last hour, per queue, as inline SVG.
 *
 * The figures come from the `completed` and `failed` events each queue's
 * stream still keeps, and only from its last {@linkcode SPARKLINE_TAIL}
 * events: the window is "the last hour, or less when a queue had more than
 * SPARKLINE_TAIL events since" (a busy queue's line covers its last few
 * minutes at most; its bars before that show 0). Reading the tail keeps the
 * overview one storage read, however many events the streams keep.
 *
 * @module
 */

import type { Storage } from "../core/storage.ts";
import { html, type SafeHtml } from "./html.ts";

/** Events read from the end of each queue's stream. */
export const SPARKLINE_TAIL = 1_000;
/** The window: one hour. */
export const WINDOW_MS = 60 * 60 * 1000;
/** Buckets of the window (5 minutes each). */
export const BUCKETS = 12;

/** Completed and failed jobs per bucket, oldest first. */
export interface Activity {
  /** Jobs completed per bucket. */
  completed: number[];
  /** Jobs failed for good per bucket. */
  failed: number[];
}

/**
 * Each queue's activity over the last hour (see the module doc for what
 * the window really is), from the tails of their event streams.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { queueActivity } from "./sparkline.ts";
 *
 * const activity = await queueActivity(new MemoryStorage(), ["default"], Date.now());
 * console.log(activity.get("default")?.completed.length); // 12
 * ```
 */
export async function queueActivity(
  storage: Storage,
  queues: readonly string[],
  now: number,
): Promise<Map<string, Activity>> {
  const activity = new Map<string, Activity>();
  for (const queue of queues) {
    activity.set(queue, { completed: Array(BUCKETS).fill(0), failed: Array(BUCKETS).fill(0) });
  }
  if (queues.length === 0) return activity;
  // A read with no cursors returns none but tells where each stream ends.
  const ends = await storage.readEvents({ queues, after: {}, limit: 1, maxWaitMs: 0 });
  const after: Record<string, string> = {};
  for (const queue of queues) {
    after[queue] = String(Math.max(0, Number(ends.cursors[queue] ?? 0) - SPARKLINE_TAIL));
  }
  const page = await storage.readEvents({ queues, after, limit: SPARKLINE_TAIL, maxWaitMs: 0 });
  const start = now - WINDOW_MS;
  for (const event of page.events) {
    if (!("queue" in event) || (event.type !== "completed" && event.type !== "failed")) continue;
    if (event.at < start || event.at > now) continue;
    const bucket = Math.min(BUCKETS - 1, Math.floor((event.at - start) / (WINDOW_MS / BUCKETS)));
    const counts = activity.get(event.queue);
    if (counts !== undefined) counts[event.type][bucket]++;
  }
  return activity;
}

/**
 * Two polylines (completed, failed) in a small SVG, scaled to the larger series.
 *
 * @example
 * ```ts
 * import { sparkline } from "./sparkline.ts";
 *
 * const svg = sparkline({ completed: [1, 2, 3], failed: [0, 1, 0] });
 * console.log(svg.value.trim().startsWith("<svg")); // true
 * ```
 */
export function sparkline(activity: Activity, label = "last hour"): SafeHtml {
  const width = 96;
  const height = 20;
  const top = Math.max(1, ...activity.completed, ...activity.failed);
  const points = (series: number[]) =>
    series.map((value, i) =>
      `${(i * width / Math.max(1, series.length - 1)).toFixed(1)},${
        (height - 1 - value * (height - 2) / top).toFixed(1)
      }`
    ).join(" ");
  const done = activity.completed.reduce((a, b) => a + b, 0);
  const failed = activity.failed.reduce((a, b) => a + b, 0);
  return html`
    <svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"
      role="img" aria-label="${label}: ${done} completed, ${failed} failed"
      data-test="sparkline" data-completed="${done}" data-failed="${failed}">
      <polyline class="completed" fill="none" stroke-width="1.5" points="${points(
        activity.completed,
      )}" />
      <polyline class="failed" fill="none" stroke-width="1.5" points="${points(activity.failed)}" />
    </svg>
  `;
}
