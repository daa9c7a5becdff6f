/**
 * The overview (`/`): every queue with its counts per state, whether it is
 * paused, totals, last-hour sparklines, and the live workers.
 *
 * @module
 */

import type { Counts } from "../../core/storage.ts";
import { JOB_STATES } from "../../core/task.ts";
import { type DashboardContext, queueHref } from "../context.ts";
import { html, type SafeHtml } from "../html.ts";
import { layout } from "../layout.ts";
import { queueActivity, sparkline } from "../sparkline.ts";

/**
 * The overview page's HTML.
 *
 * @example
 * ```ts ignore
 * const page = await overviewPage(context);
 * ```
 */
export async function overviewPage(context: DashboardContext): Promise<SafeHtml> {
  const [queues, workers] = await Promise.all([context.queue.queues(), context.queue.workers()]);
  const now = context.clock.now();
  const activity = await queueActivity(context.storage, queues.map((q) => q.name), now);
  const totals = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Counts;
  for (const q of queues) for (const s of JOB_STATES) totals[s] += q.counts[s];
  const header = html`<tr><th>Queue</th>${
    JOB_STATES.map((s) => html`<th class="num">${s}</th>`)
  }<th>Last hour</th><th>Status</th></tr>`;
  const rows = queues.map((q) =>
    html`
      <tr data-test="queue-row"
        data-queue="${q.name}"><td><a href="${queueHref(
          context,
          q.name,
        )}" data-test="queue-link">${q.name}</a></td>${JOB_STATES.map((s) =>
          html`<td class="num"><a href="${
            queueHref(context, q.name, `state=${s}`)
          }" data-test="count-${s}">${q.counts[s]}</a></td>`
        )}<td>${sparkline(activity.get(q.name)!)}</td><td data-test="queue-status">${q.paused
          ? html`<span class="badge state-delayed">paused</span>`
          : "running"}</td></tr>
    `
  );
  const totalRow = html`<tr data-test="totals-row"><th>Total</th>${
    JOB_STATES.map((s) => html`<td class="num" data-test="total-${s}">${totals[s]}</td>`)
  }<td></td><td></td></tr>`;
  const workerRows = workers.map((w) =>
    html`
      <tr data-test="worker-row" data-worker="${w.id}">
        <td>${w.id}</td>
        <td>${w.queues.join(", ")}</td>
        <td class="num">${w.running}/${w.concurrency}</td>
        <td class="num">${w.processed}</td>
      </tr>
    `
  );
  const content = html`
    <section data-live="queues"><h2>Queues</h2>${queues.length === 0
      ? html`<p class="muted" data-test="no-queues">No queues yet.</p>`
      : html`
        <div class="table-wrap">
          <table data-test="queues-table">
            <thead>${header}</thead>
            <tbody>${rows}</tbody>
            <tfoot>${totalRow}</tfoot>
          </table>
        </div>
      `}</section>
    <section
      data-live="workers"><h2>Live workers <span class="badge" data-test="worker-count">${workers
        .length}</span></h2>${workers.length === 0
        ? html`<p class="muted" data-test="no-workers">No live workers.</p>`
        : html`
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Worker</th>
                  <th>Queues</th>
                  <th class="num">Running</th>
                  <th class="num">Processed</th>
                </tr>
              </thead>
              <tbody>${workerRows}</tbody>
            </table>
          </div>
        `}</section>
  `;
  return layout(context, { heading: "Overview", content });
}
