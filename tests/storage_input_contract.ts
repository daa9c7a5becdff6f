/**
 * The storage input contract: every port method refuses malformed arguments
 * with the error of `core/storage_checks.ts` (its class, and a message naming
 * the method and the field), and changes nothing: a bad entry in a batch
 * refuses the whole batch. Each adapter that calls those checks registers
 * this suite once, beside `storageContract`.
 *
 * @module
 */

import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NewJob, ReserveRequest, Settlement, Storage } from "../core/storage.ts";
import type { ContractFixture } from "./storage_contract.ts";

const T0 = 1_000_000;
const LEASE = 30_000;
const KEEP = { count: 10, age: 1_000 };

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: "input_task",
    queue: "alpha",
    payload: null,
    priority: 0,
    maxAttempts: 3,
    maxStalls: 1,
    timeout: 0,
    runAt: T0,
    ...overrides,
  };
}

const REQUEST: ReserveRequest = {
  queues: ["alpha"],
  limit: 10,
  owner: "worker-1",
  leaseMs: LEASE,
  now: T0,
};

/** One refused call: its arguments, the error class, and what the message must name. */
type Case<A extends unknown[]> = [what: string, args: A, error: ErrorConstructor, message: RegExp];

/** A value of the wrong type, passed where the types forbid it. */
const bad = (value: unknown) => value as never;

/**
 * Registers the input contract for one adapter under `describe(name)`;
 * `factory` gives a fresh, empty fixture per test (as for the main suite).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../adapters/memory/mod.ts";
 * import { storageInputContract } from "./storage_input_contract.ts";
 *
 * storageInputContract("MemoryStorage", () =>
 *   Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }));
 * ```
 */
export function storageInputContract(
  name: string,
  factory: () => Promise<ContractFixture>,
): void {
  describe(`Storage input contract: ${name}`, () => {
    let fixture: ContractFixture;
    let storage: Storage;

    beforeEach(async () => {
      fixture = await factory();
      storage = fixture.storage;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    async function refuses<A extends unknown[]>(
      call: (...args: A) => Promise<unknown>,
      cases: Case<NoInfer<A>>[],
    ): Promise<void> {
      for (const [what, args, error, message] of cases) {
        await assert.rejects(call(...args), (thrown: unknown) => {
          assert.ok(thrown instanceof error, `${what}: ${thrown} is not a ${error.name}`);
          assert.match((thrown as Error).message, message, what);
          return true;
        });
      }
    }

    /** A job reserved from "alpha", to settle and extend. */
    async function active(id: string) {
      await storage.enqueue([newJob(id)], T0);
      const { jobs } = await storage.reserve(REQUEST);
      assert.equal(jobs.length, 1);
      return { id, token: jobs[0].lease!.token, expiresAt: jobs[0].lease!.expiresAt };
    }

    test("enqueue: a bad argument or job field refuses the whole batch", async () => {
      const good = newJob("good");
      const withBad = (field: keyof NewJob, value: unknown): [NewJob[], number] => [
        [good, { ...newJob("bad"), [field]: value }],
        T0,
      ];
      await refuses(storage.enqueue.bind(storage), [
        ["jobs not an array", [bad({}), T0], TypeError, /enqueue jobs: jobs must be an array/],
        ["now NaN", [[good], NaN], TypeError, /enqueue jobs: now must be a finite number/],
        ["a job null", [[good, bad(null)], T0], TypeError, /jobs\[1\] must be an object/],
        ["id a number", withBad("id", 7), TypeError, /jobs\[1\]\.id must be a non-empty string/],
        ["id empty", withBad("id", ""), TypeError, /jobs\[1\]\.id/],
        ["name empty", withBad("name", ""), TypeError, /jobs\[1\]\.name/],
        ["queue missing", withBad("queue", undefined), TypeError, /jobs\[1\]\.queue/],
        ["priority NaN", withBad("priority", NaN), RangeError, /jobs\[1\]\.priority/],
        ["priority a string", withBad("priority", "1"), TypeError, /jobs\[1\]\.priority/],
        ["maxAttempts 0", withBad("maxAttempts", 0), RangeError, /jobs\[1\]\.maxAttempts/],
        ["maxAttempts 1.5", withBad("maxAttempts", 1.5), RangeError, /jobs\[1\]\.maxAttempts/],
        ["maxStalls -1", withBad("maxStalls", -1), RangeError, /jobs\[1\]\.maxStalls/],
        ["timeout -1", withBad("timeout", -1), RangeError, /jobs\[1\]\.timeout/],
        ["timeout NaN", withBad("timeout", NaN), RangeError, /jobs\[1\]\.timeout/],
        ["runAt Infinity", withBad("runAt", Infinity), RangeError, /jobs\[1\]\.runAt/],
      ]);
      assert.equal(await storage.getJob("good"), null);
      assert.equal((await storage.counts("alpha")).waiting, 0);
    });

    test("reserve: a bad request reserves nothing", async () => {
      await storage.enqueue([newJob("a")], T0);
      const request = (change: Record<string, unknown>): [ReserveRequest] => [
        { ...REQUEST, ...change } as ReserveRequest,
      ];
      await refuses(storage.reserve.bind(storage), [
        ["request null", [bad(null)], TypeError, /reserve jobs: request must be an object/],
        ["queues a string", request({ queues: "alpha" }), TypeError, /queues must be an array/],
        ["a queue empty", request({ queues: ["alpha", ""] }), TypeError, /queues\[1\]: queue/],
        ["limit 0", request({ limit: 0 }), RangeError, /limit must be >= 1/],
        ["limit 1.5", request({ limit: 1.5 }), TypeError, /limit must be an integer/],
        ["owner a number", request({ owner: 1 }), TypeError, /owner must be a string/],
        ["leaseMs 0", request({ leaseMs: 0 }), RangeError, /leaseMs must be > 0/],
        ["leaseMs NaN", request({ leaseMs: NaN }), TypeError, /leaseMs must be a finite/],
        ["now a string", request({ now: "0" }), TypeError, /now must be a finite number/],
        ["taskDefaults an object", request({ taskDefaults: {} }), TypeError, /must be a Map/],
        [
          "a task's maxAttempts 0",
          request({ taskDefaults: new Map([["t", { maxAttempts: 0, maxStalls: 1, timeout: 0 }]]) }),
          RangeError,
          /taskDefaults of "t": maxAttempts/,
        ],
        [
          "a task's settings null",
          request({ taskDefaults: new Map([["t", null]]) }),
          TypeError,
          /taskDefaults of "t" must be an object/,
        ],
      ]);
      assert.equal((await storage.counts("alpha")).waiting, 1);
    });

    test("settle: a malformed settlement or option applies none of the batch", async () => {
      const job = await active("a");
      const complete: Settlement = { kind: "complete", id: job.id, token: job.token };
      const error = { message: "x", name: "Error", attempt: 1, at: T0 };
      const batch = (second: unknown): [Settlement[], { now: number }] => [
        [complete, second as Settlement],
        { now: T0 },
      ];
      await refuses(storage.settle.bind(storage), [
        ["settlements not an array", [bad({}), { now: T0 }], TypeError, /must be an array/],
        ["options null", [[complete], bad(null)], TypeError, /options must be an object/],
        ["now NaN", [[complete], { now: NaN }], TypeError, /options\.now must be a finite/],
        [
          "retention's count -1",
          [[complete], { now: T0, retention: { completed: { count: -1, age: 0 }, failed: KEEP } }],
          RangeError,
          /retention\.completed\.count/,
        ],
        [
          "retention's failed policy missing",
          [[complete], bad({ now: T0, retention: { completed: KEEP } })],
          TypeError,
          /retention\.failed must be an object/,
        ],
        ["an entry null", batch(null), TypeError, /settlements\[1\] must be an object/],
        [
          "a token missing",
          batch({ kind: "complete", id: "a" }),
          TypeError,
          /settlements\[1\] must have a string id and token/,
        ],
        ["an unknown kind", batch({ ...complete, kind: "explode" }), TypeError, /\.kind must be/],
        [
          "a retry without runAt",
          batch({ ...complete, kind: "retry", error }),
          TypeError,
          /settlements\[1\]\.runAt/,
        ],
        [
          "a fail without error",
          batch({ ...complete, kind: "fail" }),
          TypeError,
          /settlements\[1\]\.error must be a JobError/,
        ],
        [
          "a release at NaN",
          batch({ ...complete, kind: "release", runAt: NaN }),
          TypeError,
          /settlements\[1\]\.runAt/,
        ],
      ]);
      assert.equal((await storage.getJob("a"))?.state, "active");
    });

    test("extendLeases: a bad argument or entry extends no lease", async () => {
      const job = await active("a");
      const lease = { id: job.id, token: job.token };
      await refuses(storage.extendLeases.bind(storage), [
        ["leases not an array", [bad({}), LEASE, T0], TypeError, /leases must be an array/],
        ["leaseMs 0", [[lease], 0, T0], RangeError, /extend leases: leaseMs must be > 0/],
        ["now NaN", [[lease], LEASE, NaN], TypeError, /extend leases: now must be a finite/],
        [
          "an entry null",
          [[lease, bad(null)], LEASE, T0 + 1_000],
          TypeError,
          /leases\[1\] must be an object/,
        ],
      ]);
      assert.equal((await storage.getJob("a"))?.lease?.expiresAt, job.expiresAt);
    });

    test("waitForWork: bad arguments reject", async () => {
      const signal = new AbortController().signal;
      await refuses(storage.waitForWork.bind(storage), [
        ["queues a string", [bad("alpha"), 10, signal], TypeError, /array of queue names/],
        ["a queue a number", [[bad(1)], 10, signal], TypeError, /array of queue names/],
        ["maxWaitMs -1", [["alpha"], -1, signal], RangeError, /maxWaitMs must be a number >= 0/],
        ["maxWaitMs NaN", [["alpha"], NaN, signal], RangeError, /maxWaitMs/],
        ["signal missing", [["alpha"], 10, bad(undefined)], TypeError, /an AbortSignal/],
      ]);
    });

    test("list: an unknown state or a bad page rejects", async () => {
      await refuses(storage.list.bind(storage), [
        ["state unknown", ["alpha", bad("lost")], RangeError, /state must be one of/],
        ["options null", ["alpha", "waiting", bad(null)], TypeError, /options must be an object/],
        ["offset -1", ["alpha", "waiting", { offset: -1 }], RangeError, /list jobs: offset/],
        ["limit 1.5", ["alpha", "waiting", { limit: 1.5 }], TypeError, /list jobs: limit/],
      ]);
    });

    test("retryFailed, promote, pause, resume and prune: bad arguments reject and change nothing", async () => {
      await refuses(storage.retryFailed.bind(storage), [
        ["now NaN", ["a", NaN], TypeError, /retry job: now must be a finite/],
      ]);
      await refuses(storage.promote.bind(storage), [
        ["now NaN", ["a", NaN], TypeError, /promote job: now must be a finite/],
        ["now a string", ["a", bad("1")], TypeError, /promote job: now/],
      ]);
      await refuses(storage.pause.bind(storage), [
        ["queue empty", [""], TypeError, /pause queue: queue must be a non-empty string/],
        ["queue a number", [bad(1)], TypeError, /pause queue: queue/],
      ]);
      await refuses(storage.resume.bind(storage), [
        ["queue empty", [""], TypeError, /resume queue: queue must be a non-empty string/],
      ]);
      await refuses(storage.prune.bind(storage), [
        ["retention null", ["alpha", bad(null), T0], TypeError, /prune jobs: retention must be/],
        [
          "age -1",
          ["alpha", { completed: KEEP, failed: { count: 1, age: -1 } }, T0],
          RangeError,
          /retention\.failed\.age must be a number >= 0/,
        ],
        [
          "now NaN",
          ["alpha", { completed: KEEP, failed: KEEP }, NaN],
          TypeError,
          /prune jobs: now/,
        ],
      ]);
      assert.equal(await storage.isPaused("alpha"), false);
    });
  });
}
