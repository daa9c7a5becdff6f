/**
 * What every page and action of one dashboard handler shares.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";
import type { Queue } from "../core/queue.ts";
import type { Storage } from "../core/storage.ts";

/**
 * The state of one dashboard handler.
 *
 * @example
 * ```ts ignore
 * const href = `${context.basePath}/workers`;
 * ```
 */
export interface DashboardContext {
  /** The store shown. */
  storage: Storage;
  /** A Queue over it (checks ids and names, dates actions by `clock`). */
  queue: Queue;
  /** Where the dashboard is mounted: "" or "/admin/jobs" (no trailing slash). */
  basePath: string;
  /** No actions: no buttons, and POSTs answer 403. */
  readOnly: boolean;
  /** This handler's random form token. */
  token: string;
  /** The title of every page. */
  title: string;
  /** Source of time. */
  clock: Clock;
}

/** Jobs per page of a queue's list. */
export const PAGE_SIZE = 50;

/** Characters of a payload or result shown on a job's page; the rest is behind a link. */
export const JSON_PREVIEW_CHARS = 10_000;

/**
 * `/jobs/:id` of a job (the id URL-encoded), under the base path.
 *
 * @example
 * ```ts ignore
 * jobHref(context, "a/b"); // "/admin/jobs/jobs/a%2Fb"
 * ```
 */
export function jobHref(context: DashboardContext, id: string): string {
  return `${context.basePath}/jobs/${encodeURIComponent(id)}`;
}

/**
 * `/queues/:name` of a queue, under the base path, with an optional query.
 *
 * @example
 * ```ts ignore
 * queueHref(context, "mail", "state=failed"); // "/queues/mail?state=failed"
 * ```
 */
export function queueHref(context: DashboardContext, name: string, query = ""): string {
  return `${context.basePath}/queues/${encodeURIComponent(name)}${query ? `?${query}` : ""}`;
}
