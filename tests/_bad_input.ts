// Helpers shared by the bad-input tests (tests/bad_input_*_test.ts): each file
// proves on a real redis-server, started here on a free loopback port (never a
// mock, never skipped), that bad input gets a clear error and nothing is lost.

import { after } from "node:test";
import process from "node:process";
import { Redis } from "ioredis";
import { defineTask, type Task, type Worker, type WorkerEvents } from "../mod.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";

/** Any task, whatever its payload and result. */
// deno-lint-ignore no-explicit-any
export type AnyTask = Task<any, any>;

/** The calling test file's redis-server, a client for looking at it from outside, and its keys. */
export interface BadInputRedis {
  server: RedisServer;
  /** A plain ioredis client: sees the keyspace as a user of Redis would, not through taskmill. */
  admin: Redis;
  /** The raw keyspace as seen from outside taskmill: DBSIZE and the prefix's keys. */
  keyspace(prefix: string): Promise<{ dbsize: number; keys: string[] }>;
}

/**
 * Starts a redis-server for the calling test file (call it at the file's top
 * level), stopped after the file's tests.
 *
 * @example
 * ```ts
 * const { server, keyspace } = await startBadInputRedis();
 * ```
 */
export async function startBadInputRedis(): Promise<BadInputRedis> {
  const server = await startRedis();
  const admin = new Redis(server.url);
  after(async () => {
    admin.disconnect();
    await server.stop();
  });
  return {
    server,
    admin,
    keyspace: async (prefix) => ({
      dbsize: await admin.dbsize(),
      keys: await keysOf(admin, prefix),
    }),
  };
}

let prefixes = 0;

/** A key prefix no other test in this process uses. */
export function uniquePrefix(): string {
  return `bad${process.pid}x${++prefixes}`;
}

/** Waits `ms` of real time (these tests run real Workers against a real server). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = "none";
  while (!(await check().catch((error) => (lastError = error, false)))) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${lastError})`);
    }
    await sleep(25);
  }
}

/** Every key under `{prefix...}` (test code only: SCAN is never on a hot path). */
async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `{${prefix}*`, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys.sort();
}

/** Counts unhandled rejections (Node/Bun: process event; Deno: also the web event). */
export function rejectionCounter(): { reasons: unknown[]; dispose(): void } {
  const reasons: unknown[] = [];
  const onProcess = (reason: unknown) => void reasons.push(reason);
  const onWeb = (event: Event) => {
    event.preventDefault();
    reasons.push((event as PromiseRejectionEvent).reason);
  };
  process.on("unhandledRejection", onProcess);
  const g = globalThis as { Deno?: unknown };
  if (g.Deno) globalThis.addEventListener("unhandledrejection", onWeb);
  return {
    reasons,
    dispose() {
      process.off("unhandledRejection", onProcess);
      if (g.Deno) globalThis.removeEventListener("unhandledrejection", onWeb);
    },
  };
}

/** Everything an error could show a user or a log: message, stack, and causes. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(current.name, current.message, current.stack ?? "");
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join("\n");
}

/** Every `name` event the worker emits from now on, in order. */
export function collect<K extends keyof WorkerEvents>(
  worker: Worker,
  name: K,
): WorkerEvents[K][] {
  const events: WorkerEvents[K][] = [];
  worker.on(name, (e) => void events.push(e));
  return events;
}

/** A task that always succeeds. */
export const sendEmail = defineTask({ name: "send_email", handler: () => "sent" });
