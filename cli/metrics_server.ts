/**
 * The worker command's `--metrics-port N [--metrics-host H]`: serves
 * Prometheus text of the worker, its store's queues and live workers, on
 * 127.0.0.1 unless told otherwise.
 *
 * @module
 */

import { metricsHandler } from "../core/prometheus.ts";
import type { Storage } from "../core/storage.ts";
import type { Worker } from "../core/worker.ts";
import { CliError, UsageError } from "./errors.ts";
import type { FlagValues } from "./flags.ts";
import { firstLine } from "./output.ts";
import { type FetchServer, serveFetch } from "./serve_fetch.ts";

/**
 * Starts the metrics server the flags ask for, or resolves undefined when
 * there is no `--metrics-port`. `log` gets one line with its address.
 *
 * @example
 * ```ts ignore
 * const server = await serveMetrics(flags, storage, worker, (line) => log("info", line));
 * await server?.close(); // after the worker stopped
 * ```
 */
export async function serveMetrics(
  flags: FlagValues,
  storage: Storage,
  worker: Worker,
  log: (line: string) => void,
): Promise<FetchServer | undefined> {
  const port = flags["metrics-port"] as number | undefined;
  const host = (flags["metrics-host"] as string | undefined) ?? "127.0.0.1";
  if (port === undefined) {
    if (flags["metrics-host"] !== undefined) {
      throw new UsageError("--metrics-host needs --metrics-port");
    }
    return undefined;
  }
  if (port < 0 || port > 65535) {
    throw new UsageError(`--metrics-port must be 0-65535, got ${port}`);
  }
  const handler = metricsHandler({ storage, workers: [worker] });
  let server: FetchServer;
  try {
    server = await serveFetch(handler, { port, hostname: host });
  } catch (error) {
    throw new CliError(`cannot serve metrics on ${host}:${port}: ${firstLine(error)}`);
  }
  const shown = host.includes(":") ? `[${host}]` : host;
  log(`metrics on http://${shown}:${server.port}/metrics`);
  return server;
}
