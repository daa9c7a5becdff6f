/**
 * A queue's page (`/queues/:name?state=S&page=N`): its jobs in one state,
 * 50 a page in the storage's order (completed and failed newest finished
 * first, waiting in reservation order, delayed by run time, active by start),
 * and its actions.
 *
 * @module
 */

import type { JobState } from "../../core/task.ts";
import { JOB_STATES } from "../../core/task.ts";
import { type DashboardContext, jobHref, PAGE_SIZE, queueHref } from "../context.ts";
import { html, type SafeHtml } from "../html.ts";
import { actionForm, jobLink, layout, time } from "../layout.ts";

/**
 * Parses `state` and `page` of a queue page's query (defaults: waiting, 1),
 * or null when either is not valid.
 *
 * @example
 * ```ts
 * import { queuePageQuery } from "./queue.ts";
 *
 * console.log(queuePageQuery(new URLSearchParams("state=failed&page=2")));
 * // { state: "failed", page: 2 }
 * ```
 */
export function queuePageQuery(query: URLSearchParams): { state: JobState; page: number } | null {
  const state = (query.get("state") ?? "waiting") as JobState;
  const pageText = query.get("page") ?? "1";
  if (!JOB_STATES.includes(state) || !/^[1-9][0-9]{0,6}$/.test(pageText)) return null;
  return { state, page: Number(pageText) };
}

/**
 * The queue page's HTML.
 *
 * @example
 * ```ts ignore
 * const page = await queuePage(context, "mail", "failed", 1);
 * ```
 */
export async function queuePage(
  context: DashboardContext,
  name: string,
  state: JobState,
  page: number,
): Promise<SafeHtml> {
  const [counts, paused, listed] = await Promise.all([
    context.queue.counts(name),
    context.queue.isPaused(name),
    // One more than a page: is there a next one?
    context.queue.list(name, state, { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE + 1 }),
  ]);
  const jobs = listed.slice(0, PAGE_SIZE);
  const base = queueHref(context, name);
  const tabs = JOB_STATES.map((s) =>
    html`
      <a href="${queueHref(context, name, `state=${s}`)}" aria-current="${s === state
        ? "page"
        : false}"
        data-test="state-tab-${s}">${s} <span data-test="count-${s}">${counts[s]}</span></a>
    `
  );
  const actions = context.readOnly
    ? html``
    : html`<div class="actions" data-test="queue-actions">${
      paused
        ? actionForm(context, `${base}/resume`, "Resume", "resume-button")
        : actionForm(context, `${base}/pause`, "Pause", "pause-button")
    }${
      counts.failed > 0
        ? html`${
          actionForm(context, `${base}/retry-failed`, "Retry all failed", "retry-all-button")
        }${
          actionForm(context, `${base}/remove-failed`, "Remove all failed", "remove-all-button", {
            confirm: `Remove all ${counts.failed} failed jobs of ${name}?`,
            danger: true,
          })
        }`
        : ""
    }</div>`;
  const rows = jobs.map((job) =>
    html`
      <tr data-test="job-row" data-job-id="${job.id}">
        <td>${jobLink(context, job.id)}</td>
        <td>${job.name}</td>
        <td data-test="job-state" class="state-${job.state}">${job.state}</td>
        <td class="num">${job.attempt}</td>
        <td>${time(job.enqueuedAt)}</td>
        <td>${state === "delayed" || state === "waiting"
          ? time(job.runAt)
          : state === "active"
          ? time(job.startedAt)
          : time(job.finishedAt)}</td>
        <td>${job.state === "failed"
          ? actionForm(context, `${jobHref(context, job.id)}/retry`, "Retry", "retry-button")
          : job.state === "delayed"
          ? actionForm(context, `${jobHref(context, job.id)}/promote`, "Run now", "promote-button")
          : ""}</td>
      </tr>
    `
  );
  const whenHeader = state === "delayed" || state === "waiting"
    ? "Runs at"
    : state === "active"
    ? "Started"
    : "Finished";
  const pager = html`
    <div class="pager"
      data-test="pager">${page > 1
        ? html`<a href="${
          queueHref(context, name, `state=${state}&page=${page - 1}`)
        }" data-test="prev-page">← Newer</a>`
        : ""}<span data-test="page-number">Page ${page}</span>${listed.length > PAGE_SIZE
        ? html`<a href="${
          queueHref(context, name, `state=${state}&page=${page + 1}`)
        }" data-test="next-page">Older →</a>`
        : ""}</div>
  `;
  const content = html`
    <div
      data-live="queue-head"><p data-test="queue-status">${paused
        ? html`<span class="badge state-delayed" data-test="paused-flag">paused</span>`
        : "running"}</p><nav class="tabs" data-test="state-tabs">${tabs}</nav>${actions}</div>
    <section data-live="jobs">${jobs.length === 0
      ? html`<p class="muted" data-test="no-jobs">No ${state} jobs${
        page > 1 ? " on this page" : ""
      }.</p>`
      : html`
        <div class="table-wrap">
          <table data-test="jobs-table">
            <thead>
              <tr>
                <th>Job</th>
                <th>Task</th>
                <th>State</th>
                <th class="num">Attempt</th>
                <th>Enqueued</th>
                <th>${whenHeader}</th>
                <th></th>
              </tr>
            </thead>
            <tbody>${rows}</tbody>
          </table>
        </div>
      `}${pager}</section>
  `;
  return layout(context, { heading: `Queue ${name}`, content, watchQueue: name });
}
