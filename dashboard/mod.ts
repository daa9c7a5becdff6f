/**
 * A web dashboard of a taskmill store: queues with their counts, jobs by
 * state, one job's details, the live workers, updated live over
 * Server-Sent Events, with actions (pause, resume, retry, remove, run now)
 * behind a same-origin check and a form token. Server-rendered HTML, a
 * little vanilla JS and CSS shipped in the package: no build step, no CDN.
 *
 * `dashboard(options)` returns a web-standard handler: serve it with
 * `Deno.serve(handler)`, `Bun.serve({ fetch: handler })`, or on Node with
 * {@linkcode serveFetch} (re-exported here). Or run `taskmill dashboard`.
 *
 * @example Mount it under /admin/jobs, for an authorized user only
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { dashboard, serveFetch } from "@taskmill/taskmill/dashboard";
 *
 * const handler = dashboard({
 *   storage: new MemoryStorage(),
 *   basePath: "/admin/jobs",
 *   authorize: (request) => request.headers.get("x-user") === "admin",
 * });
 * const server = await serveFetch(handler, { port: 0 });
 * const response = await fetch(`http://127.0.0.1:${server.port}/admin/jobs/`, {
 *   headers: { "x-user": "admin" },
 * });
 * console.log(response.status); // 200
 * await response.body?.cancel();
 * await server.close();
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "../core/clock.ts";
import type { Storage } from "../core/storage.ts";
import { Queue } from "../core/queue.ts";
import { checkKeys, describe, optionNames } from "../core/_validate.ts";
import type { DashboardContext } from "./context.ts";
import { newToken } from "./csrf.ts";
import { type Authorize, createHandler } from "./handler.ts";

export { serveFetch } from "../cli/serve_fetch.ts";
export type { FetchHandler, FetchServer, ServeOptions } from "../cli/serve_fetch.ts";
export type { Authorize } from "./handler.ts";
export { escapeHtml, html, jsonForScript, raw, SafeHtml } from "./html.ts";

/** Options of {@linkcode dashboard}. */
export interface DashboardOptions {
  /** The store to show. */
  storage: Storage;
  /** Where it is mounted, e.g. "/admin/jobs" (every URL is under it). Default "" (the root). */
  basePath?: string;
  /** Show no action buttons, and answer every POST with 403. Default false. */
  readOnly?: boolean;
  /**
   * Called with every request first: true lets it on, false answers 401, a
   * Response (e.g. a 403, or a redirect to a login page) is sent as is.
   * Default: everyone may look (bind to 127.0.0.1, or put it behind auth).
   */
  authorize?: Authorize;
  /** The title of every page. Default "taskmill". */
  title?: string;
  /** Source of time (dates actions, the sparklines' window). Default: the system clock. */
  clock?: Clock;
}

const OPTIONS = optionNames<DashboardOptions>()([
  "storage",
  "basePath",
  "readOnly",
  "authorize",
  "title",
  "clock",
]);

const BASE_PATH = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*$/;

/**
 * The dashboard's request handler, `(request) => Promise<Response>`.
 * Throws a TypeError naming the bad option.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { dashboard } from "@taskmill/taskmill/dashboard";
 *
 * const handler = dashboard({ storage: new MemoryStorage(), readOnly: true });
 * const response = await handler(new Request("http://localhost/"));
 * console.log(response.status, response.headers.get("content-type")); // 200 "text/html; charset=utf-8"
 * await response.body?.cancel();
 * ```
 */
export function dashboard(options: DashboardOptions): (request: Request) => Promise<Response> {
  const where = "Cannot create dashboard";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  checkKeys(options, OPTIONS, where);
  const { storage, readOnly = false, authorize, title = "taskmill", clock = systemClock } = options;
  if (typeof storage !== "object" || storage === null || typeof storage.list !== "function") {
    throw new TypeError(`${where}: options.storage must be a Storage, got ${describe(storage)}`);
  }
  let basePath = options.basePath ?? "";
  if (typeof basePath !== "string") {
    throw new TypeError(`${where}: options.basePath must be a string, got ${describe(basePath)}`);
  }
  basePath = basePath.replace(/\/+$/, "");
  if (!BASE_PATH.test(basePath)) {
    throw new TypeError(
      `${where}: options.basePath must be a path like "/admin/jobs" (segments of URL-safe characters), got ${
        describe(options.basePath)
      }`,
    );
  }
  if (typeof readOnly !== "boolean") {
    throw new TypeError(`${where}: options.readOnly must be a boolean, got ${describe(readOnly)}`);
  }
  if (authorize !== undefined && typeof authorize !== "function") {
    throw new TypeError(
      `${where}: options.authorize must be a function, got ${describe(authorize)}`,
    );
  }
  if (typeof title !== "string" || title === "") {
    throw new TypeError(
      `${where}: options.title must be a non-empty string, got ${describe(title)}`,
    );
  }
  if (typeof clock !== "object" || clock === null || typeof clock.now !== "function") {
    throw new TypeError(`${where}: options.clock must be a Clock, got ${describe(clock)}`);
  }
  const context: DashboardContext = {
    storage,
    queue: new Queue({ storage, clock }),
    basePath,
    readOnly,
    token: newToken(),
    title,
    clock,
  };
  return createHandler(context, authorize);
}
