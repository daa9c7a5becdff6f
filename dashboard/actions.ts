/**
 * What the dashboard's POST forms do. Each returns where to send the
 * browser next (a 303), and a note when nothing could be done.
 *
 * Promote ("run now") is one atomic storage call (`Queue.promote`): the
 * delayed job becomes waiting under the same id, keeping its attempt count
 * and error history, so no failure between two calls can lose it. A job
 * that is no longer delayed (reserved, removed) is left alone.
 *
 * @module
 */

import type { DashboardContext } from "./context.ts";

/** Jobs handled per storage page by the "all failed" actions. */
const BATCH = 500;

/**
 * Retries (`retry: true`) or removes every failed job of `queue`; resolves
 * to how many. A job that changes state meanwhile is skipped.
 *
 * @example
 * ```ts ignore
 * const retried = await allFailed(context, "mail", "retry");
 * ```
 */
export async function allFailed(
  context: DashboardContext,
  queue: string,
  action: "retry" | "remove",
): Promise<number> {
  let done = 0;
  let offset = 0;
  for (;;) {
    const jobs = await context.queue.list(queue, "failed", { offset, limit: BATCH });
    if (jobs.length === 0) return done;
    let changed = 0;
    for (const job of jobs) {
      const ok = action === "retry"
        ? await context.queue.retryFailed(job.id)
        : await context.queue.removeFailed(job.id);
      if (ok) changed++;
    }
    done += changed;
    // Those done left the failed list; those skipped stay: page past them.
    offset += jobs.length - changed;
  }
}

/**
 * Makes a delayed job run now (see the module doc); false if it is not delayed.
 *
 * @example
 * ```ts ignore
 * await promote(context, "job-1"); // true
 * ```
 */
export async function promote(context: DashboardContext, id: string): Promise<boolean> {
  return await context.queue.promote(id);
}
