// Flow control: what limits and groups cost, and how fair the groups' turns
// are. Each run enqueues jobs with Queue.enqueueMany, then one Worker at
// concurrency C processes them (completed jobs deleted as they complete, as
// in the other runs), timed from the worker's start to the last `completed`.
// - "no limit": the baseline.
// - "limits that never bind": concurrency 1 000 000 and a rate of 100 000
//   per second on the queue (both checked and counted in every reserve).
// - "groups": G groups of S jobs each, enqueued group after group (the
//   order a first-in-first-out queue would serve one group at a time);
//   fairness is each group's share of the completed jobs at 25 %, 50 % and
//   75 % of the run against an equal share (1 / G), as the largest relative
//   deviation of any group.

import { defineTask, Queue, type Storage, Worker } from "../mod.ts";
import { batches, countdown, deadline, perSecond } from "./_util.ts";

/** One flow-control run's figures. */
export interface FlowRun {
  /** Jobs per second, processing only. */
  process: number;
  /** With groups: the largest relative deviation of a group's share from 1 / G at the checkpoints. */
  unfairness?: number;
}

/** How a run is set up. */
export interface FlowSetup {
  /** Makes a fresh, empty storage; `close` drops it. */
  open: () => Promise<{ storage: Storage; close: () => Promise<void> }>;
  n: number;
  c: number;
  mode: "none" | "limits" | "groups";
  /** With "groups": how many (n jobs are spread evenly over them). */
  groups?: number;
}

const QUEUE = "flow";

/** Runs one flow-control measurement. */
export async function runFlow(setup: FlowSetup): Promise<FlowRun> {
  const { storage, close } = await setup.open();
  const queue = new Queue({ storage });
  const byGroup = new Map<string, number>();
  const work = defineTask({
    name: "flow_noop",
    queue: QUEUE,
    handler: async (_: { i: number }) => {},
  });
  const groups = setup.mode === "groups" ? setup.groups ?? 1_000 : 0;
  if (setup.mode === "limits") {
    await queue.setLimits(QUEUE, { concurrency: 1_000_000, rate: { max: 100_000, per: 1_000 } });
  }
  if (groups > 0) {
    const size = Math.ceil(setup.n / groups);
    for (let g = 0; g < groups; g++) {
      for (const batch of batches(size, 1_000)) {
        await queue.enqueueMany(work, batch, { group: `g${g}` });
      }
    }
  } else {
    for (const batch of batches(setup.n, 1_000)) await queue.enqueueMany(work, batch);
  }
  const total = groups > 0 ? Math.ceil(setup.n / groups) * groups : setup.n;
  const worker = new Worker({
    storage,
    tasks: [work],
    concurrency: setup.c,
    retention: { completed: { count: 0 } },
  });
  const completed = countdown(total);
  const checkpoints = [0.25, 0.5, 0.75].map((f) => Math.floor(total * f));
  let done = 0;
  let unfairness = 0;
  worker.on("completed", ({ job }) => {
    if (groups > 0) {
      byGroup.set(job.group!, (byGroup.get(job.group!) ?? 0) + 1);
      if (checkpoints.includes(++done)) {
        const fair = done / groups;
        for (let g = 0; g < groups; g++) {
          const share = byGroup.get(`g${g}`) ?? 0;
          unfairness = Math.max(unfairness, Math.abs(share - fair) / fair);
        }
      }
    }
    completed.tick();
  });
  const start = performance.now();
  await worker.start();
  await deadline(
    completed.done,
    600_000,
    `taskmill flow (${setup.mode}) at concurrency ${setup.c}`,
  );
  const ms = performance.now() - start;
  await worker.stop();
  await close();
  const run: FlowRun = { process: perSecond(total, ms) };
  if (groups > 0) run.unfairness = unfairness;
  return run;
}
