/**
 * Reading the event streams (`readEvents`): a non-blocking XREAD of every
 * stream asked for, on the main connection; when it finds nothing, an XREAD
 * BLOCK per hash tag on a dedicated connection. A blocking read still in
 * flight with the same keys and ids is joined rather than sent again, so
 * any number of waits on the same streams (1 000 `result()` waiters share
 * one reader) hold one connection per tag; a read whose callers gave up runs
 * on to its own timeout and its connection is reused after.
 *
 * @module
 */

import type { EventPage, EventRead, StorageEvent } from "../../core/storage_events.ts";
import { WORKER_STREAM } from "../../core/storage_events.ts";
import type { Client } from "./connection.ts";
import { decodeEntry, type StreamEntry } from "./event_codec.ts";
import type { Slots } from "./slots.ts";

/** XREAD's reply: per stream with entries, its key and entries; null when there are none. */
type XReadReply = [key: string, entries: StreamEntry[]][] | null;

/** A stream of a read: its name, keys and cursor. */
interface StreamRead {
  name: string;
  key: string;
  after: number;
}

/** A dedicated connection and the blocking read it runs. */
interface Blocker {
  conn: Client;
  /** The keys and ids of the read in flight, or null when free. */
  signature: string | null;
  reply: Promise<XReadReply> | null;
}

/**
 * The event reads of one storage (see the module doc).
 *
 * @example
 * ```ts ignore
 * const reads = new EventReads(slots);
 * const page = await reads.read({ queues: ["default"], after: {}, limit: 100, maxWaitMs: 0 });
 * ```
 */
export class EventReads {
  #slots: Slots;
  #blockers = new Map<string, Blocker[]>();

  /** Reads the streams of `slots`. */
  constructor(slots: Slots) {
    this.#slots = slots;
  }

  /** The stream's key base: a queue's, or the workers' under `{prefix}`. */
  #base(name: string): string {
    return name === WORKER_STREAM
      ? `{${this.#slots.prefix}}:w:`
      : `${this.#slots.tag(name)}:q:${name}:`;
  }

  /**
   * One `readEvents` call (see the port's doc).
   *
   * @example
   * ```ts ignore
   * const { events, cursors } = await reads.read(request);
   * ```
   */
  async read(request: EventRead): Promise<EventPage> {
    const names = [...new Set(request.queues)];
    if (request.workers) names.push(WORKER_STREAM);
    const cursors: Record<string, string> = {};
    if (this.#slots.eventBacklog === 0) {
      for (const name of names) cursors[name] = request.after[name] ?? "0";
      return { events: [], cursors };
    }
    const connection = this.#slots.connection;
    const streams: StreamRead[] = [];
    const fromEnd: StreamRead[] = [];
    for (const name of names) {
      const given = request.after[name];
      const stream = {
        name,
        key: `${this.#base(name)}events`,
        after: given === undefined ? -1 : Number(given),
      };
      streams.push(stream);
      if (given === undefined) fromEnd.push(stream);
    }
    // A stream read from its end starts at its event counter.
    await connection.command("read events", () =>
      Promise.all(fromEnd.map(async (stream) => {
        const count = await connection.client.get(`${this.#base(stream.name)}eseq`);
        stream.after = count === null ? 0 : Number(count);
      })));
    for (const stream of streams) cursors[stream.name] = String(stream.after);
    const events: StorageEvent[] = [];
    const groups = new Map<string, StreamRead[]>();
    for (const stream of streams) {
      const tag = stream.key.slice(0, stream.key.indexOf("}") + 1);
      let group = groups.get(tag);
      if (group === undefined) groups.set(tag, group = []);
      group.push(stream);
    }
    const limit = request.limit;
    let replies: XReadReply[];
    try {
      replies = await Promise.all(
        [...groups.values()].map((group) =>
          connection.client.xread("COUNT", limit, "STREAMS", ...xreadArgs(group)) as Promise<
            XReadReply
          >
        ),
      );
    } catch (error) {
      throw connection.error("read events", error);
    }
    [...groups.values()].forEach((group, i) => collect(group, replies[i], events, cursors, limit));
    if (events.length > 0 || request.maxWaitMs <= 0 || request.signal?.aborted) {
      return { events, cursors };
    }
    const woken = await this.#block([...groups], request.maxWaitMs, limit, request.signal);
    if (woken !== null) collect(woken.group, woken.reply, events, cursors, limit);
    return { events, cursors };
  }

  /** Waits on every group; the first with entries wins (null: none before the end of the wait). */
  #block(
    groups: [string, StreamRead[]][],
    maxWaitMs: number,
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<{ group: StreamRead[]; reply: XReadReply } | null> {
    return new Promise((resolve, reject) => {
      let pending = groups.length;
      let done = false;
      const finish = (value: { group: StreamRead[]; reply: XReadReply } | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      };
      const onAbort = () => finish(null);
      // This read's own bound: a joined read may have been sent with a longer one.
      const timer = setTimeout(onAbort, maxWaitMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      for (const [tag, group] of groups) {
        this.#blockOn(tag, group, maxWaitMs, limit).then((reply) => {
          if (reply !== null) finish({ group, reply });
          else if (--pending === 0) finish(null);
        }, (error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          reject(
            this.#slots.connection.closed
              ? new Error("storage closed")
              : this.#slots.connection.error("wait for events", error),
          );
        });
      }
    }).catch((error) => {
      if (this.#slots.connection.closed) return null;
      throw error;
    }) as Promise<{ group: StreamRead[]; reply: XReadReply } | null>;
  }

  /** The blocking XREAD of one group: joined when one with the same keys and ids is in flight. */
  #blockOn(
    tag: string,
    group: StreamRead[],
    maxWaitMs: number,
    limit: number,
  ): Promise<XReadReply> {
    const args = xreadArgs(group);
    const signature = args.join(" ");
    let pool = this.#blockers.get(tag);
    if (pool === undefined) this.#blockers.set(tag, pool = []);
    const joined = pool.find((b) => b.signature === signature);
    if (joined !== undefined) return joined.reply!;
    let blocker = pool.find((b) => b.signature === null);
    if (blocker === undefined) {
      blocker = { conn: this.#slots.connection.duplicate(), signature: null, reply: null };
      pool.push(blocker);
    }
    if (blocker.conn.status === "end") blocker.conn = this.#slots.connection.duplicate();
    const b = blocker;
    b.signature = signature;
    b.reply = (b.conn.xread(
      "COUNT",
      limit,
      "BLOCK",
      Math.max(1, Math.ceil(maxWaitMs)),
      "STREAMS",
      ...args,
    ) as Promise<XReadReply>)
      .finally(() => {
        b.signature = null;
        b.reply = null;
      });
    return b.reply;
  }

  /**
   * Cuts the blocking connections (on close).
   *
   * @example
   * ```ts ignore
   * reads.close();
   * ```
   */
  close(): void {
    for (const pool of this.#blockers.values()) for (const b of pool) b.conn.disconnect();
    this.#blockers.clear();
  }
}

/** XREAD's STREAMS arguments: the keys, then an id per key. */
function xreadArgs(group: StreamRead[]): string[] {
  return [...group.map((s) => s.key), ...group.map((s) => `${s.after}-0`)];
}

/** Decodes a group's XREAD reply into `events`, moving the group's cursors on. */
function collect(
  group: StreamRead[],
  reply: XReadReply,
  events: StorageEvent[],
  cursors: Record<string, string>,
  limit: number,
): void {
  if (reply === null) return;
  for (const [key, entries] of reply) {
    const stream = group.find((s) => s.key === key);
    if (stream === undefined) continue;
    let after = stream.after;
    let taken = 0;
    for (const entry of entries) {
      const { added, last } = decodeEntry(stream.name, entry, after, events, taken, limit);
      taken += added;
      after = last;
      if (taken >= limit) break;
    }
    cursors[stream.name] = String(after);
  }
}
