/**
 * How far a worker's clock is from its storage's, and when that is too far:
 * measured at start and now and then on heartbeats, warned about as `error`.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { StorageWarning } from "./errors.ts";
import type { Emitter, WorkerEvents } from "./events.ts";
import type { Storage } from "./storage.ts";

/**
 * The worker warns when its clock's skew from the storage's exceeds this
 * fraction of `leaseMs - heartbeatMs` (the most a lease holds against),
 * leaving the rest for network and event-loop delays.
 */
const SKEW_WARN_FRACTION = 0.5;
/** Clock-time ms between skew measurements on heartbeats (one TIME round trip each). */
export const SKEW_CHECK_MS = 60_000;

/**
 * Measures `clock` against the storage's (`serverTime`, called once, its
 * failure thrown), from `before` (the clock read just before), and returns
 * a warning when the skew nears the bound a lease holds against: a clock
 * ahead by `s` reclaims other workers' jobs `s` early (and one behind has
 * its own reclaimed early), so a job can run twice once `s` exceeds
 * `leaseMs - heartbeatMs`. Null when the clocks agree well enough.
 *
 * @example
 * ```ts
 * import { skewWarning } from "./skew.ts";
 * import { systemClock } from "./clock.ts";
 * const before = systemClock.now();
 * const serverTime = () => Promise.resolve(before - 60_000); // a minute behind
 * const warning = await skewWarning(serverTime, systemClock, before, "w1", 30_000, 10_000);
 * console.log(warning?.code); // "clock-skew"
 * ```
 */
export async function skewWarning(
  serverTime: () => Promise<number>,
  clock: Clock,
  before: number,
  workerId: string,
  leaseMs: number,
  heartbeatMs: number,
): Promise<StorageWarning | null> {
  const server = await serverTime();
  const after = clock.now();
  // The server read its clock somewhere in [before, after]: count only
  // the skew beyond half the round trip.
  const skew = Math.round((before + after) / 2 - server);
  const sure = Math.abs(skew) - (after - before) / 2;
  const bound = leaseMs - heartbeatMs;
  if (sure <= bound * SKEW_WARN_FRACTION) return null;
  return new StorageWarning(
    "clock-skew",
    `Worker ${workerId}'s clock is ${skew > 0 ? "ahead of" : "behind"} the storage's clock ` +
      `by ${Math.abs(skew)} ms. A lease holds against less than leaseMs ${leaseMs} - ` +
      `heartbeatMs ${heartbeatMs} = ${bound} ms of skew between workers; beyond that ` +
      `jobs run twice or fail as stalled. Sync the clocks (NTP) or use a longer leaseMs.`,
  );
}

/**
 * A worker's skew measurements: when the next is due, and the measurement
 * itself, whose warning is emitted as an `error` event (never fatal).
 *
 * @example
 * ```ts ignore
 * const skew = new SkewCheck(storage, clock, "w1", 30_000, 10_000, events);
 * if (skew.due(clock.now())) void skew.check(); // on a heartbeat
 * ```
 */
export class SkewCheck {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #workerId: string;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #events: Emitter<WorkerEvents>;
  /** Clock time of the last measurement that started (null: none yet). */
  #checkedAt: number | null = null;

  constructor(
    storage: Storage,
    clock: Clock,
    workerId: string,
    leaseMs: number,
    heartbeatMs: number,
    events: Emitter<WorkerEvents>,
  ) {
    this.#storage = storage;
    this.#clock = clock;
    this.#workerId = workerId;
    this.#leaseMs = leaseMs;
    this.#heartbeatMs = heartbeatMs;
    this.#events = events;
  }

  /** Whether a measurement is due at `now` (every {@linkcode SKEW_CHECK_MS}). */
  due(now: number): boolean {
    return this.#checkedAt === null || now - this.#checkedAt >= SKEW_CHECK_MS;
  }

  /** Warns when this worker's clock is too far from the storage's (see `skewWarning`). */
  async check(): Promise<void> {
    // A manual clock (FakeClock) is off on purpose, and storage takes every
    // time from it, so its skew means nothing.
    const storage = this.#storage;
    if (storage.serverTime === undefined || this.#clock.manual) return;
    const before = this.#clock.now();
    this.#checkedAt = before;
    let warning: StorageWarning | null;
    try {
      warning = await skewWarning(
        () => storage.serverTime!(),
        this.#clock,
        before,
        this.#workerId,
        this.#leaseMs,
        this.#heartbeatMs,
      );
    } catch {
      this.#checkedAt = null; // look again at the next heartbeat
      return;
    }
    if (warning !== null) this.#events.emit("error", { error: warning, during: "clock skew" });
  }
}
