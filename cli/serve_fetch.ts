/**
 * Serves a fetch-style handler (`(Request) => Promise<Response>`) over HTTP
 * on whichever runtime runs: `Deno.serve` on Deno, `Bun.serve` on Bun, and
 * `node:http` on Node (through a small adapter). Used by the worker's
 * `--metrics-port`; anything else that speaks fetch (a dashboard) can reuse it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** Where to listen. */
export interface ServeOptions {
  /** The TCP port; 0 picks a free one (see {@linkcode FetchServer.port}). */
  port: number;
  /** The address to bind. Default "127.0.0.1" (this machine only). */
  hostname?: string;
  /** Called with an error the handler threw (the client gets a 500). */
  onError?: (error: unknown) => void;
}

/** A listening server. */
export interface FetchServer {
  /** The port it listens on (the one picked, when asked for 0). */
  readonly port: number;
  /** The address it is bound to. */
  readonly hostname: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/** A fetch-style request handler, as `Deno.serve` and `Bun.serve` take. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

interface DenoServe {
  serve(
    options: {
      port: number;
      hostname: string;
      onListen: () => void;
      onError: (error: unknown) => Response;
    },
    handler: FetchHandler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

interface BunServe {
  serve(options: {
    port: number;
    hostname: string;
    fetch: FetchHandler;
    error: (error: unknown) => Response;
  }): { port: number; stop(closeActive?: boolean): void | Promise<void> };
}

const failed = () => new Response("Internal server error\n", { status: 500 });

/**
 * Serves `handler` on `options.port` of `options.hostname` (127.0.0.1 unless
 * told otherwise). Resolves once it listens; rejects when it cannot (the port
 * is taken, the address is not this machine's).
 *
 * @example
 * ```ts
 * import { serveFetch } from "./serve_fetch.ts";
 *
 * const server = await serveFetch(() => new Response("ok"), { port: 0 });
 * const response = await fetch(`http://127.0.0.1:${server.port}/`);
 * console.log(await response.text()); // "ok"
 * await server.close();
 * ```
 */
export async function serveFetch(
  handler: FetchHandler,
  options: ServeOptions,
): Promise<FetchServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const { port } = options;
  const onError = (error: unknown) => {
    options.onError?.(error);
    return failed();
  };
  const g = globalThis as { Deno?: DenoServe; Bun?: BunServe };
  if (g.Deno !== undefined) {
    const server = g.Deno.serve({ port, hostname, onListen: () => {}, onError }, handler);
    return { port: server.addr.port, hostname, close: () => server.shutdown() };
  }
  if (g.Bun !== undefined) {
    const server = g.Bun.serve({ port, hostname, fetch: handler, error: onError });
    return {
      port: server.port,
      hostname,
      close: async () => {
        await server.stop(true);
      },
    };
  }
  return await serveOnNode(handler, port, hostname, onError);
}

/** node:http in front of a fetch handler: a Request in, the Response written out. */
function serveOnNode(
  handler: FetchHandler,
  port: number,
  hostname: string,
  onError: (error: unknown) => Response,
): Promise<FetchServer> {
  const server = createServer((req, res) => {
    void answer(handler, req, res, hostname, onError);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : port,
        hostname,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function answer(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  hostname: string,
  onError: (error: unknown) => Response,
): Promise<void> {
  // The request's signal aborts when the client goes away, so a streamed
  // response (Server-Sent Events) can end.
  const gone = new AbortController();
  res.once("close", () => gone.abort());
  let response: Response;
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
      else if (value !== undefined) headers.set(name, value);
    }
    const method = req.method ?? "GET";
    let body: Uint8Array<ArrayBuffer> | undefined;
    if (method !== "GET" && method !== "HEAD") {
      const chunks: Uint8Array[] = [];
      for await (const chunk of req) chunks.push(chunk as Uint8Array);
      body = new Uint8Array(Buffer.concat(chunks));
    }
    const host = req.headers.host ?? hostname;
    const url = new URL(req.url ?? "/", `http://${host}`);
    response = await handler(new Request(url, { method, headers, body, signal: gone.signal }));
  } catch (error) {
    response = onError(error);
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => headers[name] = value);
  res.writeHead(response.status, headers);
  if (req.method === "HEAD" || response.body === null) {
    await response.body?.cancel();
    res.end();
    return;
  }
  // Streamed chunk by chunk: a response that never ends (SSE) is still sent as it comes.
  const reader = response.body.getReader();
  gone.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), {
    once: true,
  });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // the client went away, or the body failed: end what was sent
  }
  res.end();
}
