/**
 * The frame of every page: head (stylesheet, script, no inline code: the
 * CSP forbids it), navigation, the job search form, and the forms of actions.
 *
 * @module
 */

import { type DashboardContext, jobHref } from "./context.ts";
import { html, type SafeHtml } from "./html.ts";

/** What a page tells the layout. */
export interface PageParts {
  /** The page's own title (before the dashboard's). */
  heading: string;
  /** The page's content. */
  content: SafeHtml;
  /** The page follows one queue's events only. */
  watchQueue?: string;
  /** The page follows one job's events only. */
  watchJob?: string;
}

/**
 * A whole HTML page.
 *
 * @example
 * ```ts ignore
 * const page = layout(context, { heading: "Workers", content: html`<p>none</p>` });
 * ```
 */
export function layout(context: DashboardContext, parts: PageParts): SafeHtml {
  const base = context.basePath;
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${parts.heading} · ${context.title}</title>
        <link rel="stylesheet" href="${base}/assets/app.css">
        <link rel="icon" href="${base}/assets/icon.svg" type="image/svg+xml">
        <script src="${base}/assets/app.js" defer></script>
      </head>
      <body data-events-url="${base}/events" data-watch-queue="${parts.watchQueue}"
        data-watch-job="${parts.watchJob}">
        <header>
    <a class="brand" href="${base}/" data-test="home-link">${context.title}</a>
    <nav>
    <a href="${base}/" data-test="nav-overview">Overview</a>
    <a href="${base}/workers" data-test="nav-workers">Workers</a>
    </nav>
    <form method="get" action="${base}/find" data-test="find-form">
    <input type="search" name="id" placeholder="Job id" aria-label="Job id" required data-test="find-input">
    <button type="submit" data-test="find-button">Find</button>
    </form>
    ${context.readOnly ? html`<span class="badge" data-test="read-only">read-only</span>` : ""}
        </header>
        <main>
    <h1 data-test="page-title">${parts.heading}</h1>
    ${parts.content}
        </main>
      </body>
    </html>
  `;
}

/**
 * A POST form of one action with its token; nothing in read-only mode.
 *
 * @example
 * ```ts ignore
 * actionForm(context, `${context.basePath}/queues/mail/pause`, "Pause", "pause-button");
 * ```
 */
export function actionForm(
  context: DashboardContext,
  action: string,
  label: string,
  testId: string,
  options: { confirm?: string; danger?: boolean } = {},
): SafeHtml {
  if (context.readOnly) return html``;
  return html`
    <form class="inline" method="post" action="${action}"
      data-confirm="${options.confirm}"><input type="hidden" name="_token" value="${context
        .token}"><button type="submit" class="${options.danger
        ? "danger"
        : ""}" data-test="${testId}">${label}</button></form>
  `;
}

/**
 * A link to a job's page.
 *
 * @example
 * ```ts ignore
 * jobLink(context, job.id);
 * ```
 */
export function jobLink(context: DashboardContext, id: string): SafeHtml {
  return html`<a href="${jobHref(context, id)}" data-test="job-link">${id}</a>`;
}

/**
 * An epoch-ms time as ISO 8601 in a `<time>` element, or "—".
 *
 * @example
 * ```ts ignore
 * time(job.enqueuedAt);
 * ```
 */
export function time(at: number | undefined): SafeHtml {
  if (at === undefined || !Number.isFinite(at)) return html`<span class="muted">—</span>`;
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`;
}
