import type { Lease } from "../../core/task.ts";
import type { Slot } from "./slot.ts";

/**
 * A job's lease as granted or extended, and also its entry in the lease heap
 * (one object per grant, not two). Never changed once pushed: an extension
 * grants a new one, so an entry is stale once its job's lease is another.
 *
 * @example
 * ```ts
 * import { LeaseGrant } from "./lease_grant.ts";
 * import { QueueData } from "./queue_data.ts";
 * import { Slot } from "./slot.ts";
 * import { Spec } from "./spec.ts";
 *
 * const job = { id: "a", name: "send", queue: "default", payload: { to: "x" }, priority: 0,
 *   maxAttempts: null, maxStalls: 1, timeout: 0, runAt: 0 };
 * const slot = new Slot(job, new Spec(job, new QueueData("default"), 0), 0);
 * slot.state = "active";
 * slot.lease = new LeaseGrant("worker-1", "t1", 30_000, 1, slot);
 * const old = slot.lease;
 * slot.lease = new LeaseGrant("worker-1", "t1", 60_000, 2, slot); // extended
 * console.log(old.isHeld(), slot.lease.isHeld()); // false true
 * ```
 */
export class LeaseGrant implements Lease {
  readonly owner: string;
  readonly token: string;
  readonly expiresAt: number;
  /** Order among equal expiries. */
  readonly seq: number;
  readonly slot: Slot;

  constructor(owner: string, token: string, expiresAt: number, seq: number, slot: Slot) {
    this.owner = owner;
    this.token = token;
    this.expiresAt = expiresAt;
    this.seq = seq;
    this.slot = slot;
  }

  /** Whether this is still its job's lease (not settled, reclaimed or extended since). */
  isHeld(): boolean {
    return this.slot.lease === this && this.slot.state === "active";
  }
}
