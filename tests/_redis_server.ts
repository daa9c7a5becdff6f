// Starts throwaway redis-server processes for the tests, on free loopback
// ports, and always stops them. Works on Deno, Bun and Node (node:* modules).
//
// REDIS_URL set: that server is used instead of spawning one.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Redis } from "ioredis";
import type { Cluster } from "ioredis";

/** A running test server. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Its port. */
  port: number;
  /** The server's process id (absent for REDIS_URL), e.g. to freeze it with SIGSTOP. */
  pid?: number;
  /** Kills it and waits for the process to exit (no-op for REDIS_URL). */
  stop(): Promise<void>;
}

/** Options of {@linkcode startRedis}. */
export interface StartRedisOptions {
  /** Turn on the append-only file (needs `dir`). */
  appendonly?: boolean;
  /** Working directory (AOF and RDB files). */
  dir?: string;
  /** Extra redis-server arguments, e.g. `["--requirepass", "secret"]`. */
  args?: string[];
  /** Use this port instead of a free one (e.g. to restart on the same port). */
  port?: number;
}

const INSTALL_HINT = "redis-server is required to run the Redis tests: install it with " +
  "`apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), " +
  "or point REDIS_URL at a server you own. `npm test` installs it when it can.";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and returns the first reply line, or null on failure. */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let data = "";
    const finish = (value: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on("error", () => finish(null));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("\r\n")) finish(data);
    });
    socket.connect(port, "127.0.0.1", () => socket.write(command + "\r\n"));
  });
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

function spawnServer(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (chunk) => output = (output + chunk).slice(-4_000));
    child.stderr?.on("data", (chunk) => output = (output + chunk).slice(-4_000));
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "ENOENT" ? new Error(INSTALL_HINT) : error);
    });
    child.once("spawn", () => resolve(child));
    child.once("exit", (code) => {
      if (code !== null && code !== 0) {
        console.error(`redis-server exited with ${code}:\n${output}`);
      }
    });
  });
}

async function waitForPing(port: number, child: ChildProcess, password?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
    }
    const reply = await rawCommand(port, "PING");
    if (reply !== null && (reply.startsWith("+PONG") || (password && reply.includes("NOAUTH")))) {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
    return stopped;
  };
}

/**
 * Starts a redis-server on a free loopback port (or uses REDIS_URL), waits
 * until it answers PING, and returns its URL.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const external = process.env.REDIS_URL;
  if (external && !options.args?.length && !options.appendonly && options.port === undefined) {
    return { url: external, port: Number(new URL(external).port || 6379), stop: async () => {} };
  }
  if (options.port !== undefined) return await startOn(options.port, options);
  return await withFreshPorts(() => freePort().then((port) => startOn(port, options)));
}

/**
 * Retries `start` a few times: a free port can be taken between our probe
 * and redis-server's bind by a test file running in parallel (Node runs test
 * files concurrently), and then redis-server exits at once.
 */
async function withFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 5 || !/exited with/.test(String((error as Error)?.message))) throw error;
    }
  }
}

/** A throwaway server's arguments: loopback only, no RDB snapshots, quiet. */
function baseArgs(port: number, appendonly = false): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    appendonly ? "yes" : "no",
    "--loglevel",
    "warning",
  ];
}

async function startOn(port: number, options: StartRedisOptions): Promise<RedisServer> {
  const args = baseArgs(port, options.appendonly);
  if (options.dir) args.push("--dir", options.dir);
  args.push(...(options.args ?? []));
  const child = await spawnServer(args);
  const stop = stopper(child);
  const passwordIndex = args.indexOf("--requirepass");
  try {
    await waitForPing(port, child, passwordIndex >= 0 ? args[passwordIndex + 1] : undefined);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop };
}

/** A running local cluster. */
export interface RedisCluster {
  /** The masters' addresses. */
  nodes: { host: string; port: number }[];
  /** Stops every node and removes the config files. */
  stop(): Promise<void>;
}

/** Starts a 3-master Redis Cluster on free loopback ports. */
export function startRedisCluster(): Promise<RedisCluster> {
  return withFreshPorts(startClusterOnce);
}

async function startClusterOnce(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "taskmill-cluster-"));
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    // the cluster bus uses port + 10000: keep both free and distinct
    if (port < 55_000 && !ports.includes(port)) ports.push(port);
  }
  const children: ChildProcess[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.all(stops.map((s) => s()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = await spawnServer([
        ...baseArgs(port),
        "--dir",
        dir,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
      ]);
      children.push(child);
      stops.push(stopper(child));
    }
    await Promise.all(ports.map((port, i) => waitForPing(port, children[i])));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(
        ports.map((p) => run("redis-cli", ["-p", String(p), "cluster", "info"]).catch(() => "")),
      );
      if (infos.every((info) => info.includes("cluster_state:ok"))) break;
      if (Date.now() > deadline) throw new Error("the local Redis Cluster did not reach state ok");
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: "127.0.0.1", port })), stop };
}

/** Deletes every key of one test's prefix (test cleanup only: SCAN, never on a hot path). */
export async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `{${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** A client of `url` that records the name of every command it sends, in `sent`. */
export function countingClient(url: string): { client: Redis; sent: string[] } {
  const client = new Redis(url);
  const sent: string[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string }, stream?: unknown) => {
    sent.push(command.name);
    return send(command as never, stream as never);
  }) as typeof client.sendCommand;
  return { client, sent };
}

/**
 * The entries RedisStorage keeps for the dedupe keys of `queue` under
 * `prefix`: its key hash and its ttl set (see adapters/redis/lua/dedupe.ts),
 * read with a plain client.
 */
export async function dedupeEntries(
  client: Redis | Cluster,
  prefix: string,
  queueTags: boolean,
  queue: string,
): Promise<number> {
  const tag = queueTags ? `{${prefix}:${queue}}` : `{${prefix}}`;
  return await client.hlen(`${tag}:q:${queue}:dedupe`) +
    await client.zcard(`${tag}:q:${queue}:dedupe:held`);
}
