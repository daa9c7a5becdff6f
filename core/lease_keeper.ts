/**
 * The heartbeat of a worker's leases: it renews the leases of the jobs the
 * worker holds, and lets go of the ones storage says are gone.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { LeaseLostError } from "./errors.ts";
import type { HeldJob } from "./held_job.ts";
import type { Storage } from "./storage.ts";

/**
 * What a {@linkcode LeaseKeeper} asks of its worker. One object per worker,
 * built once, as `SettleHost` is.
 *
 * @example
 * ```ts
 * import type { LeaseHost } from "./lease_keeper.ts";
 * const host: LeaseHost = {
 *   held: () => [],
 *   dropIfUnstarted: () => false,
 *   failed: (error) => console.error("lease renewal", error),
 *   recovered: () => {},
 *   renewed: (now) => console.log("leases kept at", now),
 * };
 * ```
 */
export interface LeaseHost {
  /** The jobs held now, in reservation order (a fresh array). */
  held(): HeldJob[];
  /**
   * If `held` is prefetched and not started, drops it (reason: `reason`)
   * and returns true; returns false for a job already started.
   */
  dropIfUnstarted(held: HeldJob, reason: string): boolean;
  /** A renewal failed: count it (duty "lease renewal") and report `error`. */
  failed(error: unknown): void;
  /** Renewals work (again): clear the failure count and wake the fetch loop. */
  recovered(): void;
  /** The heartbeat at `now` kept every lease it could: record and announce it. */
  renewed(now: number): void;
}

/**
 * Renews a worker's leases, one `storage.extendLeases` call per heartbeat,
 * and lets go of jobs whose leases are gone.
 *
 * @example
 * ```ts ignore
 * const leases = new LeaseKeeper(storage, clock, leaseMs, host);
 * await leases.renew(clock.now()); // each heartbeat
 * ```
 */
export class LeaseKeeper {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #host: LeaseHost;

  constructor(storage: Storage, clock: Clock, leaseMs: number, host: LeaseHost) {
    this.#storage = storage;
    this.#clock = clock;
    this.#leaseMs = leaseMs;
    this.#host = host;
  }

  /** One heartbeat at clock time `now`: renews the live leases, loses the ones refused. */
  async renew(now: number): Promise<void> {
    const host = this.#host;
    const live = host.held().filter((h) =>
      h.state === "reserved" || h.state === "running" || h.state === "settling"
    );
    let kept: boolean[] = [];
    if (live.length > 0) {
      try {
        kept = await this.#storage.extendLeases(
          live.map((h) => ({ id: h.job.id, token: h.token })),
          this.#leaseMs,
          now,
        );
      } catch (error) {
        host.failed(error);
        // Leases that ran out meanwhile are another worker's to take now.
        const at = this.#clock.now();
        this.#lose(
          live.filter((h) =>
            h.expiresAt <= at && (h.state === "reserved" || h.state === "running")
          ),
        );
        return;
      }
    }
    host.recovered();
    const expiresAt = now + this.#leaseMs;
    const lost: HeldJob[] = [];
    for (let i = 0; i < live.length; i++) {
      if (kept[i]) live[i].expiresAt = expiresAt;
      else lost.push(live[i]);
    }
    this.#lose(lost);
    host.renewed(now);
  }

  /**
   * Lets go of jobs whose leases are gone. All are marked lost (and the
   * unstarted ones dropped) before any running handler is aborted: an abort
   * frees a slot, and the next job started there must not be one of these.
   */
  #lose(lost: readonly HeldJob[]): void {
    if (lost.length === 0) return;
    const running: HeldJob[] = [];
    for (const held of lost) {
      if (this.#host.dropIfUnstarted(held, "lease lost before the job started")) continue;
      held.lose();
      running.push(held);
    }
    for (const held of running) held.abort(new LeaseLostError(held.job.id));
  }
}
