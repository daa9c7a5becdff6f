/**
 * A job's page (`/jobs/:id`): its state and timeline, payload, result and
 * progress as formatted JSON (cut at 10 000 characters, with a link to all
 * of it), its error history with stacks, the lease owner while active, and
 * its actions.
 *
 * @module
 */

import type { JobRecord } from "../../core/task.ts";
import { type DashboardContext, jobHref, JSON_PREVIEW_CHARS, queueHref } from "../context.ts";
import { html, type SafeHtml } from "../html.ts";
import { actionForm, layout, time } from "../layout.ts";

/** `value` as indented JSON, cut at JSON_PREVIEW_CHARS with a link to the whole. */
function jsonBlock(value: unknown, testId: string, fullHref?: string): SafeHtml {
  const text = JSON.stringify(value, null, 2) ?? "undefined";
  if (text.length <= JSON_PREVIEW_CHARS) return html`<pre data-test="${testId}">${text}</pre>`;
  return html`
    <pre data-test="${testId}">${text.slice(0, JSON_PREVIEW_CHARS)}…</pre>
    <p
      data-test="${testId}-truncated">Showing the first ${JSON_PREVIEW_CHARS} of ${text
        .length} characters.${fullHref === undefined ? "" : html`
        <a href="${fullHref}" data-test="${testId}-full">All of it (JSON)</a>
      `}</p>
  `;
}

/**
 * The job page's HTML.
 *
 * @example
 * ```ts ignore
 * const page = jobPage(context, job);
 * ```
 */
export function jobPage(context: DashboardContext, job: JobRecord): SafeHtml {
  const href = jobHref(context, job.id);
  const actions = html`<div class="actions" data-test="job-actions">${
    job.state === "failed" ? actionForm(context, `${href}/retry`, "Retry", "retry-button") : ""
  }${
    job.state === "delayed"
      ? actionForm(context, `${href}/promote`, "Run now", "promote-button")
      : ""
  }${
    job.state !== "active"
      ? actionForm(context, `${href}/remove`, "Remove", "remove-button", {
        confirm: `Remove job ${job.id}?`,
        danger: true,
      })
      : ""
  }</div>`;
  const errors = job.errors.length === 0
    ? html`<p class="muted" data-test="no-errors">No errors.</p>`
    : html`<ol data-test="errors">${
      job.errors.map((e) =>
        html`
          <li
            data-test="error"><p><strong>${e.name}</strong>: <span data-test="error-message">${e
              .message}</span> <span class="muted">(attempt ${e.attempt}, ${time(
                e.at,
              )})</span></p>${e.stack
              ? html`<pre data-test="error-stack">${e.stack}</pre>`
              : ""}</li>
        `
      )
    }</ol>`;
  const content = html`<div data-live="job">
<p>State: <span class="badge state-${job.state}" data-test="job-state">${job.state}</span> in queue <a href="${
    queueHref(context, job.queue)
  }" data-test="job-queue">${job.queue}</a> · task <span data-test="job-name">${job.name}</span></p>
${context.readOnly ? "" : actions}
<h2>Timeline</h2>
<dl class="facts" data-test="timeline">
<dt>Enqueued</dt><dd data-test="enqueued-at">${time(job.enqueuedAt)}</dd>
<dt>Runs at</dt><dd data-test="run-at">${time(job.runAt)}</dd>
<dt>Started</dt><dd data-test="started-at">${time(job.startedAt)}</dd>
<dt>Attempts</dt><dd data-test="attempts">${job.attempt} of ${job.maxAttempts ?? "the task's"}</dd>
<dt>Stalls</dt><dd>${job.stalls}</dd>
<dt>Finished</dt><dd data-test="finished-at">${time(job.finishedAt)}</dd>
<dt>Priority</dt><dd>${job.priority}</dd>
${
    job.dedupeKey === undefined ? "" : html`
      <dt>Dedupe key</dt>
      <dd data-test="dedupe-key">${job.dedupeKey}</dd>
    `
  }
${
    job.state === "active" && job.lease
      ? html`
        <dt>Lease owner</dt>
        <dd data-test="lease-owner">${job.lease.owner}</dd>
        <dt>Lease expires</dt>
        <dd>${time(job.lease.expiresAt)}</dd>
      `
      : ""
  }
</dl>
<h2>Payload</h2>
${jsonBlock(job.payload, "payload", `${href}/payload.json`)}
${job.progress !== undefined ? html`<h2>Progress</h2>${jsonBlock(job.progress, "progress")}` : ""}
${
    job.state === "completed"
      ? html`<h2>Result</h2>${jsonBlock(job.result ?? null, "result", `${href}/result.json`)}`
      : ""
  }
<h2>Errors</h2>
${errors}
</div>`;
  return layout(context, { heading: `Job ${job.id}`, content, watchJob: job.id });
}
