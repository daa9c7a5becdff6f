// The quickstart: 300 jobs on the in-memory store, some of which fail and
// retry, with live progress and a summary. Run it with `npm run demo`
// (or `deno run examples/quickstart.ts`, `bun examples/quickstart.ts`).
import {
  defineTask,
  exponential,
  MemoryStorage,
  Queue,
  UnrecoverableError,
  Worker,
} from "../mod.ts";

const JOBS = 300;

// A flaky "send email" task: about a third of first attempts fail with a
// transient error and are retried with exponential backoff; address "bad"
// fails for good at once.
const sendEmail = defineTask({
  name: "send_email",
  maxAttempts: 4,
  retry: exponential({ base: 50, factor: 2, max: 1_000, jitter: true }),
  timeout: 2_000,
  handler: async (payload: { to: string; n: number }, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 5 + (payload.n % 20)));
    if (payload.to.startsWith("bad")) {
      throw new UnrecoverableError(`no such mailbox: ${payload.to}`);
    }
    if (ctx.job.attempt === 1 && payload.n % 3 === 0) throw new Error("SMTP 421: try again later");
    return { sent: true, to: payload.to };
  },
});

const storage = new MemoryStorage();
const queue = new Queue({ storage });
const worker = new Worker({ storage, tasks: [sendEmail], concurrency: 10 });

let retries = 0;
worker.on("retrying", () => void retries++);
worker.on("failed", ({ job, error }) => console.log(`  dead-letter: ${job.id} (${error.message})`));

await worker.start();
const started = Date.now();
const payloads = Array.from(
  { length: JOBS },
  (_, n) => ({ to: n % 97 === 50 ? `bad${n}@example.com` : `user${n}@example.com`, n }),
);
await queue.enqueueMany(sendEmail, payloads);
console.log(`enqueued ${JOBS} jobs; running with concurrency 10`);

const line = async () => {
  const c = await queue.counts();
  return `  waiting ${c.waiting}  delayed ${c.delayed}  active ${c.active}  completed ${c.completed}  failed ${c.failed}  (retries so far: ${retries})`;
};
for (;;) {
  const c = await queue.counts();
  console.log(await line());
  if (c.completed + c.failed === JOBS) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}

await worker.stop();
const m = worker.metrics();
const seconds = (Date.now() - started) / 1000;
console.log(`
summary
  jobs:           ${JOBS} in ${seconds.toFixed(2)} s
  completed:      ${m.succeeded}
  failed for good: ${m.failed} (dead-letter set: ${(await queue.list("default", "failed")).length})
  retried:        ${m.retried} attempts
  duration p50/p95/p99: ${m.duration.p50}/${m.duration.p95}/${m.duration.p99} ms
  queue wait p50/p95:   ${m.queueWait.p50}/${m.queueWait.p95} ms`);
