/**
 * `taskmill dashboard --port N [--host H] [--base-path P] [--read-only]`:
 * serves the web dashboard of the store on 127.0.0.1 unless told otherwise,
 * until SIGTERM or SIGINT.
 *
 * @example
 * ```ts ignore
 * await dashboardCommand({ "redis-url": "redis://127.0.0.1:6379", port: 8080 });
 * ```
 *
 * @module
 */

import * as rt from "../_runtime.ts";
import { dashboard } from "../../dashboard/mod.ts";
import { CliError, UsageError } from "../errors.ts";
import type { FlagValues } from "../flags.ts";
import { firstLine } from "../output.ts";
import { type FetchServer, serveFetch } from "../serve_fetch.ts";
import { withStorage } from "../storage.ts";

/**
 * Serves the dashboard until a stop signal; resolves to 0.
 *
 * @example
 * ```ts ignore
 * await dashboardCommand({ "redis-url": "redis://127.0.0.1:6379", port: 0 });
 * ```
 */
export async function dashboardCommand(flags: FlagValues): Promise<number> {
  const port = (flags.port as number | undefined) ?? 8080;
  const host = (flags.host as string | undefined) ?? "127.0.0.1";
  if (port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${port}`);
  const basePath = flags["base-path"] as string | undefined;
  return await withStorage(flags, "dashboard", async (queue) => {
    let handler: (request: Request) => Promise<Response>;
    try {
      handler = dashboard({
        storage: queue.storage,
        basePath,
        readOnly: flags["read-only"] === true,
      });
    } catch (error) {
      throw new UsageError(firstLine(error).replace(/options\.basePath/, "--base-path"));
    }
    // Open event streams end on stop too, or the server would wait for them.
    const stop = new AbortController();
    const serve = (request: Request) =>
      request.url.endsWith("/events")
        ? handler(new Request(request, { signal: AbortSignal.any([request.signal, stop.signal]) }))
        : handler(request);
    let server: FetchServer;
    try {
      server = await serveFetch(serve, { port, hostname: host });
    } catch (error) {
      throw new CliError(`cannot serve the dashboard on ${host}:${port}: ${firstLine(error)}`);
    }
    const shown = host.includes(":") ? `[${host}]` : host;
    rt.out(`dashboard on http://${shown}:${server.port}${basePath?.replace(/\/+$/, "") ?? ""}/`);
    const signal = await new Promise<string>((resolve) => {
      const remove = rt.onStopSignal((name) => {
        remove();
        resolve(name);
      });
    });
    rt.out(`${signal}: stopping`);
    stop.abort();
    await server.close();
    return 0;
  });
}
