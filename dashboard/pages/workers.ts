/**
 * The workers page (`/workers`): every live worker and the jobs each runs
 * (the active jobs of its queues whose lease it owns).
 *
 * @module
 */

import type { JobRecord } from "../../core/task.ts";
import { type DashboardContext, queueHref } from "../context.ts";
import { html, type SafeHtml } from "../html.ts";
import { jobLink, layout, time } from "../layout.ts";

/** Active jobs read per queue to find each worker's (a worker runs at most its concurrency). */
const ACTIVE_LIMIT = 1_000;

/**
 * The workers page's HTML.
 *
 * @example
 * ```ts ignore
 * const page = await workersPage(context);
 * ```
 */
export async function workersPage(context: DashboardContext): Promise<SafeHtml> {
  const workers = await context.queue.workers();
  const queues = [...new Set(workers.flatMap((w) => w.queues))];
  const active = (await Promise.all(
    queues.map((q) => context.queue.list(q, "active", { limit: ACTIVE_LIMIT })),
  )).flat();
  const byOwner = new Map<string, JobRecord[]>();
  for (const job of active) {
    const owner = job.lease?.owner;
    if (owner === undefined) continue;
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), job]);
  }
  const sections = workers.map((w) => {
    const jobs = byOwner.get(w.id) ?? [];
    return html`
      <section class="worker" data-test="worker"
        data-worker="${w.id}"><h2 data-test="worker-id">${w.id}</h2>
      <dl class="facts"><dt>Host</dt><dd>${w.host} (pid ${w.pid})</dd><dt>Runtime</dt><dd>${w
        .runtime} ${w.runtimeVersion}</dd>
      <dt>Queues</dt><dd>${w.queues.map((q, i) =>
        html`${i > 0 ? ", " : ""}<a href="${queueHref(context, q)}">${q}</a>`
      )}</dd><dt>Running</dt><dd data-test="worker-running">${w.running} of ${w.concurrency}</dd>
      <dt>Processed</dt><dd>${w.processed} (${w.failed} failed)</dd><dt>Started</dt><dd>${time(
        w.startedAt,
      )}</dd><dt>Last seen</dt><dd>${time(w.lastSeen)}</dd></dl>
      ${jobs.length === 0
        ? html`<p class="muted" data-test="worker-idle">No jobs running.</p>`
        : html`
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Task</th>
                  <th>Queue</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>${jobs.map((job) =>
                html`
                  <tr data-test="worker-job-row">
                    <td>${jobLink(context, job.id)}</td>
                    <td>${job.name}</td>
                    <td>${job.queue}</td>
                    <td>${time(job.startedAt)}</td>
                  </tr>
                `
              )}</tbody>
            </table>
          </div>
        `}</section>
    `;
  });
  const content = html`<div data-live="workers">${
    workers.length === 0
      ? html`<p class="muted" data-test="no-workers">No live workers.</p>`
      : sections
  }</div>`;
  return layout(context, { heading: "Workers", content });
}
