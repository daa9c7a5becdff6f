import type { Counts } from "../../core/storage.ts";
import type { EventStream } from "./event_stream.ts";
import type { Flow } from "./flow.ts";
import { FinishedList } from "./finished_list.ts";
import { Heap } from "./heap.ts";
import type { LeaseGrant } from "./lease_grant.ts";
import type { Slot } from "./slot.ts";
import { WaitingList } from "./waiting_list.ts";

/**
 * Everything stored for one queue: its waiting, delayed and finished jobs,
 * its lease expiries, its counts and whether it is paused.
 *
 * @example
 * ```ts
 * import { QueueData } from "./queue_data.ts";
 *
 * const queue = new QueueData("default");
 * console.log(queue.counts.waiting, queue.peekDelayed(), queue.peekLease()); // 0 undefined undefined
 * ```
 */
export class QueueData {
  readonly name: string;
  paused = false;
  readonly waiting: WaitingList = new WaitingList();
  /** Delayed jobs by (runAt, seq); removed ones are skipped lazily. */
  readonly delayed: Heap<Slot> = new Heap((a, b) =>
    a.runAt < b.runAt || (a.runAt === b.runAt && a.seq < b.seq)
  );
  /** Lease expiries; entries for settled or extended leases are skipped lazily. */
  readonly leases: Heap<LeaseGrant> = new Heap((a, b) =>
    a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq)
  );
  readonly completed: FinishedList = new FinishedList("completed");
  readonly failed: FinishedList = new FinishedList("failed");
  readonly counts: Counts = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
  /**
   * Dedupe keys (`NewJob.dedupe.key`) to the job that holds each (made at
   * the first enqueue with a key). An entry whose job finished is dropped
   * then, or, while its ttl holds, when `heldKeys` says it is over.
   */
  dedupe: Map<string, Slot> | undefined = undefined;
  /** Finished jobs whose key their ttl still holds, by `spec.holdUntil`. */
  heldKeys: Heap<Slot> | undefined = undefined;
  /**
   * Its limits, holds and groups' lanes (see `Flow`): made once it has any,
   * so a queue without them reserves as before.
   */
  flow: Flow | undefined = undefined;
  /** Its event stream; undefined when events are off. */
  readonly events: EventStream | undefined;

  constructor(name: string, events?: EventStream) {
    this.name = name;
    this.events = events;
  }

  /** The earliest delayed job, dropping removed ones from the top. */
  peekDelayed(): Slot | undefined {
    let top = this.delayed.peek();
    while (top !== undefined && top.removed) {
      this.delayed.pop();
      top = this.delayed.peek();
    }
    return top;
  }

  /** The earliest live lease, dropping stale entries from the top (this keeps the heap small). */
  peekLease(): LeaseGrant | undefined {
    let top = this.leases.peek();
    while (top !== undefined && !top.isHeld()) {
      this.leases.pop();
      top = this.leases.peek();
    }
    return top;
  }
}
