/**
 * The dashboard's routing: authorization, the base path, GET pages and
 * assets, POST actions behind the same-origin check and the form token,
 * and the security headers of every response.
 *
 * @module
 */

import type { DashboardContext } from "./context.ts";
import { jobHref, queueHref } from "./context.ts";
import { isSameOrigin, tokensMatch } from "./csrf.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout } from "./layout.ts";
import { allFailed, promote } from "./actions.ts";
import { eventsResponse } from "./live.ts";
import { APP_CSS } from "./assets/app_css.ts";
import { APP_JS } from "./assets/app_js.ts";
import { ICON_SVG } from "./assets/icon_svg.ts";
import { overviewPage } from "./pages/overview.ts";
import { queuePage, queuePageQuery } from "./pages/queue.ts";
import { jobPage } from "./pages/job.ts";
import { workersPage } from "./pages/workers.ts";

/** The headers every response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** Who may look: true lets the request on, false answers 401, a Response is sent as is. */
export type Authorize = (request: Request) => boolean | Response | Promise<boolean | Response>;

const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function withHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!response.headers.has(name)) response.headers.set(name, value);
  }
  return response;
}

function htmlResponse(page: SafeHtml, status = 200): Response {
  return new Response(page.value.trimStart(), {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}

function text(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

function asset(body: string, type: string): Response {
  return new Response(body, {
    headers: {
      "content-type": type,
      // The asset is part of the package: a new version is a new process, and
      // the URLs are worth the cache while it runs.
      "cache-control": "public, max-age=31536000, immutable",
    },
  });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value, null, 2), {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function notFound(context: DashboardContext, what: string): Response {
  return htmlResponse(
    layout(context, {
      heading: "Not found",
      content: html`
        <p data-test="not-found">${what}</p>
        <p><a href="${context.basePath}/">Back to the overview</a></p>
      `,
    }),
    404,
  );
}

/** The path's segments, URL-decoded; null when one does not decode. */
function segments(path: string): string[] | null {
  try {
    return path.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch {
    return null;
  }
}

/**
 * Makes the request handler of a dashboard from its context.
 *
 * @example
 * ```ts ignore
 * const handle = createHandler(context, undefined);
 * const response = await handle(new Request("http://localhost/"));
 * ```
 */
export function createHandler(
  context: DashboardContext,
  authorize: Authorize | undefined,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (authorize !== undefined) {
      const verdict = await authorize(request);
      if (verdict instanceof Response) return verdict;
      if (verdict !== true) {
        return withHeaders(text(401, "Unauthorized"));
      }
    }
    return withHeaders(await route(context, request));
  };
}

async function route(context: DashboardContext, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const base = context.basePath;
  if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
    return text(404, "Not found");
  }
  const parts = segments(url.pathname.slice(base.length));
  if (parts === null) return notFound(context, "That address does not decode.");
  if (request.method === "POST") return await action(context, request, parts);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, POST" } });
  }
  const [first, second, third, ...rest] = parts;
  if (first === undefined) {
    if (url.pathname === base && base !== "") return redirect(`${base}/`);
    return htmlResponse(await overviewPage(context));
  }
  if (first === "assets" && third === undefined) {
    if (second === "app.css") return asset(APP_CSS, "text/css; charset=utf-8");
    if (second === "app.js") return asset(APP_JS, "text/javascript; charset=utf-8");
    if (second === "icon.svg") return asset(ICON_SVG, "image/svg+xml");
  }
  if (first === "workers" && second === undefined) return htmlResponse(await workersPage(context));
  if (first === "events" && second === undefined) {
    return await eventsResponse(context, request.signal);
  }
  if (first === "find" && second === undefined) {
    const id = (url.searchParams.get("id") ?? "").trim();
    if (id === "") return redirect(`${base}/`);
    return redirect(jobHref(context, id));
  }
  if (first === "queues" && second !== undefined && third === undefined) {
    if (!QUEUE_NAME.test(second)) return notFound(context, "No queue has that name.");
    const query = queuePageQuery(url.searchParams);
    if (query === null) return notFound(context, "No such state or page.");
    return htmlResponse(await queuePage(context, second, query.state, query.page));
  }
  if (first === "jobs" && second !== undefined && rest.length === 0) {
    const job = await getJob(context, second);
    if (job === null) return notFound(context, `No job has the id ${second}.`);
    if (third === undefined) return htmlResponse(jobPage(context, job));
    if (third === "payload.json") return json(job.payload);
    if (third === "result.json") return json(job.result ?? null);
  }
  return notFound(context, "Nothing here.");
}

async function getJob(context: DashboardContext, id: string) {
  try {
    return await context.queue.getJob(id);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) return null; // not a valid id
    throw error;
  }
}

async function action(
  context: DashboardContext,
  request: Request,
  parts: string[],
): Promise<Response> {
  if (context.readOnly) return text(403, "Forbidden: this dashboard is read-only");
  if (!isSameOrigin(request)) return text(403, "Forbidden: cross-site request");
  let token = "";
  try {
    const form = await request.formData();
    const value = form.get("_token");
    if (typeof value === "string") token = value;
  } catch {
    // not a form: no token
  }
  if (!tokensMatch(token, context.token)) {
    return text(403, "Forbidden: missing or stale form token");
  }
  const [first, subject, verb, ...rest] = parts;
  if (subject === undefined || verb === undefined || rest.length > 0) {
    return text(404, "No such action");
  }
  if (first === "queues" && QUEUE_NAME.test(subject)) {
    const back = queueHref(context, subject);
    switch (verb) {
      case "pause":
        await context.queue.pause(subject);
        return redirect(back);
      case "resume":
        await context.queue.resume(subject);
        return redirect(back);
      case "retry-failed":
        await allFailed(context, subject, "retry");
        return redirect(queueHref(context, subject, "state=waiting"));
      case "remove-failed":
        await allFailed(context, subject, "remove");
        return redirect(queueHref(context, subject, "state=failed"));
    }
  }
  if (first === "jobs") {
    const job = await getJob(context, subject);
    if (job === null) return notFound(context, `No job has the id ${subject}.`);
    const back = jobHref(context, job.id);
    switch (verb) {
      case "retry":
        await context.queue.retryFailed(job.id);
        return redirect(back);
      case "promote":
        await promote(context, job.id);
        return redirect(back);
      case "remove":
        return (await context.queue.remove(job.id))
          ? redirect(queueHref(context, job.queue, `state=${job.state}`))
          : redirect(back);
    }
  }
  return text(404, "No such action");
}
