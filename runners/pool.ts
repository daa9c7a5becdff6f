/**
 * A pool of threads or processes that run handlers, one job each at a
 * time: started when work needs them (up to `size`), replaced when they
 * die or reach `maxTasksPerChild`, ended when idle for `idleMs`. What kind
 * of child it runs is its `Spawn`'s business (`thread_pool.ts`,
 * `process_pool.ts`).
 *
 * @module
 */

import { clearTimeout, setTimeout } from "node:timers";
import type { Runner } from "../core/runner.ts";
import type { Task, TaskContext } from "../core/task.ts";
import type { PoolSettings } from "./pool_options.ts";
import { errorOf, type FromChild, type ToChild } from "./protocol.ts";
import { RunnerCrashError } from "./runner_crash_error.ts";

/**
 * One started thread or process, as the pool drives it.
 *
 * @example
 * ```ts ignore
 * const handle: ChildHandle = spawn({ message: onMessage, exit: onExit });
 * handle.send({ t: "abort", id: 1, reason: "timed out" });
 * ```
 */
export interface ChildHandle {
  send(message: ToChild): void;
  /** Ends it at once (its `exit` follows). */
  kill(): void;
  /** Whether it keeps the process alive (busy) or not (idle). */
  ref(): void;
  unref(): void;
}

/**
 * Starts a thread or process that reports its messages and its end (with
 * a readable cause) to `events`.
 *
 * @example
 * ```ts ignore
 * const spawn: Spawn = (events) => startThread(events);
 * ```
 */
export type Spawn = (events: {
  message(message: FromChild): void;
  exit(cause: string): void;
}) => ChildHandle;

interface Current {
  id: number;
  task: string;
  ctx: TaskContext;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onAbort: () => void;
}

interface Child {
  handle: ChildHandle;
  tasks: number;
  current: Current | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  killTimer: ReturnType<typeof setTimeout> | undefined;
  dead: boolean;
}

/**
 * The pool behind `threadPool` and `processPool`.
 *
 * @example
 * ```ts ignore
 * const pool = new Pool("thread", spawnThread, readPoolOptions({ size: 2 }, "threadPool"));
 * const result = await pool.run(task, payload, ctx);
 * ```
 */
export class Pool implements Runner {
  readonly #kind: "thread" | "process";
  readonly #spawn: Spawn;
  readonly #settings: PoolSettings;
  readonly #children = new Set<Child>();
  #idle: Child[] = [];
  #waiting: ((child: Child) => void)[] = [];
  #ids = 0;
  #started = 0;

  /** A pool of `kind` children, each started by `spawn`; none starts before work needs it. */
  constructor(kind: "thread" | "process", spawn: Spawn, settings: PoolSettings) {
    this.#kind = kind;
    this.#spawn = spawn;
    this.#settings = settings;
  }

  /** How many threads or processes it has started so far (replacements included). */
  get started(): number {
    return this.#started;
  }

  /** How many are alive now. */
  get alive(): number {
    return this.#children.size;
  }

  /** Runs `task`'s handler on `payload` in an idle child (the next free one, else a new one). */
  // deno-lint-ignore no-explicit-any
  async run(task: Task<any, any>, payload: unknown, ctx: TaskContext): Promise<unknown> {
    if (task.module === undefined) {
      throw new TypeError(`Task "${task.name}" has no module: a runner loads it by module URL`);
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const child = await this.#acquire();
    return await new Promise((resolve, reject) => {
      const id = ++this.#ids;
      const onAbort = () => this.#abort(child, id);
      child.current = { id, task: task.name, ctx, resolve, reject, onAbort };
      child.handle.ref();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      const job = { ...ctx.job };
      child.handle.send({ t: "run", id, module: task.module!, name: task.name, payload, job });
    });
  }

  /** Ends every thread or process; a handler still running fails with a RunnerCrashError. */
  close(): Promise<void> {
    for (const child of [...this.#children]) this.#end(child);
    return Promise.resolve();
  }

  #acquire(): Promise<Child> {
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      clearTimeout(idle.idleTimer);
      idle.idleTimer = undefined;
      return Promise.resolve(idle);
    }
    if (this.#children.size < this.#settings.size) return Promise.resolve(this.#start());
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #start(): Child {
    const child: Child = {
      handle: undefined as unknown as ChildHandle,
      tasks: 0,
      current: undefined,
      idleTimer: undefined,
      killTimer: undefined,
      dead: false,
    };
    this.#started++;
    this.#children.add(child);
    child.handle = this.#spawn({
      message: (message) => this.#message(child, message),
      exit: (cause) => this.#exited(child, cause),
    });
    return child;
  }

  #message(child: Child, message: FromChild): void {
    const current = child.current;
    if (message.t === "ready" || current === undefined || message.id !== current.id) return;
    if (message.t === "progress") {
      const ack = () =>
        child.dead || child.handle.send({ t: "progressed", id: message.id, n: message.n });
      current.ctx.progress(message.value).then(ack, ack);
      return;
    }
    this.#finish(child);
    if (message.ok) current.resolve(message.value);
    else current.reject(errorOf(message.error));
    this.#release(child);
  }

  /** The job's signal aborted: tell the handler, and end its child unless it returns in time. */
  #abort(child: Child, id: number): void {
    if (child.current?.id !== id) return;
    const reason = child.current.ctx.signal.reason;
    child.handle.send({
      t: "abort",
      id,
      reason: reason instanceof Error ? reason.message : String(reason),
    });
    child.killTimer = setTimeout(() => {
      if (child.current?.id === id) child.handle.kill();
    }, this.#settings.killGraceMs);
  }

  /** The current job of `child` ended (its outcome is the caller's). */
  #finish(child: Child): void {
    const current = child.current!;
    current.ctx.signal.removeEventListener("abort", current.onAbort);
    clearTimeout(child.killTimer);
    child.killTimer = undefined;
    child.current = undefined;
    child.tasks++;
  }

  /** `child` is free: to the next waiting run, retired, or idle. */
  #release(child: Child): void {
    if (child.tasks >= this.#settings.maxTasksPerChild) {
      this.#end(child);
      this.#startForWaiting();
      return;
    }
    const next = this.#waiting.shift();
    if (next !== undefined) return next(child);
    child.handle.unref();
    this.#idle.push(child);
    child.idleTimer = setTimeout(() => this.#end(child), this.#settings.idleMs);
    child.idleTimer.unref?.();
  }

  #end(child: Child): void {
    if (child.dead) return;
    child.dead = true;
    clearTimeout(child.idleTimer);
    this.#idle = this.#idle.filter((c) => c !== child);
    this.#children.delete(child);
    child.handle.kill();
  }

  #exited(child: Child, cause: string): void {
    const current = child.current;
    if (current !== undefined) {
      const aborted = current.ctx.signal.aborted;
      this.#finish(child);
      current.reject(
        new RunnerCrashError(
          current.task,
          this.#kind,
          aborted ? `it was ended after its job was aborted (${cause})` : cause,
        ),
      );
    }
    const wasAlive = !child.dead;
    child.dead = true;
    clearTimeout(child.idleTimer);
    this.#idle = this.#idle.filter((c) => c !== child);
    this.#children.delete(child);
    if (wasAlive || current !== undefined) this.#startForWaiting();
  }

  /** A place freed: a run waiting for one gets a new child. */
  #startForWaiting(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next(this.#start());
  }
}
