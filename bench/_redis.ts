// The benchmark's own redis-server (the tests' launcher: a free loopback
// port, no persistence) and an admin connection for FLUSHALL and INFO.

import { Redis } from "ioredis";
export { startRedis } from "../tests/_redis_server.ts";

/** Jobs per bulk-enqueue call, the same for every system. */
export const ENQUEUE_BATCH = 1_000;

/** What one Redis run measured, in jobs per second. */
export interface RedisRun {
  enqueue: number;
  process: number;
}

/** An admin connection: flushes between runs and reads command statistics. */
export class Admin {
  #client: Redis;
  constructor(url: string) {
    this.#client = new Redis(url);
  }

  /** Empties the server and resets INFO commandstats. */
  async reset(): Promise<void> {
    await this.#client.flushall();
    await this.#client.config("RESETSTAT");
  }

  /** Calls per command since the last reset (INFO commandstats), without our own INFO. */
  async commandStats(): Promise<Map<string, number>> {
    const text = await this.#client.info("commandstats");
    const calls = new Map<string, number>();
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1], Number(m[2]));
    calls.delete("info");
    calls.delete("config");
    calls.delete("flushall");
    return calls;
  }

  async version(): Promise<string> {
    const text = await this.#client.info("server");
    return /redis_version:(\S+)/.exec(text)?.[1] ?? "?";
  }

  async close(): Promise<void> {
    await this.#client.quit();
  }
}

/**
 * Round trips vs. Redis commands: INFO commandstats also counts the commands
 * Lua scripts run, so a client's round trips are its script calls plus the
 * commands no script can issue (blocking pops); everything else may have come
 * from inside a script. Exact for taskmill, whose hot path sends nothing else.
 */
export function roundTrips(calls: Map<string, number>): { roundTrips: number; commands: number } {
  const topLevel =
    /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro|blpop|brpop|blmove|brpoplpush|bzpopmin|bzpopmax|bzmpop|blmpop|multi|exec|script\|load|client\|.*|hello|select|ping)$/;
  let roundTrips = 0;
  let commands = 0;
  for (const [name, n] of calls) {
    commands += n;
    if (topLevel.test(name)) roundTrips += n;
  }
  return { roundTrips, commands };
}
