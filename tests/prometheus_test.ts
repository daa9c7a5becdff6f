// The Prometheus exposition: the text of a real worker run (on MemoryStorage
// and a FakeClock) checked by promtool and against what ran, label escaping
// and the families from literal data, and the /metrics handler's answers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  defineTask,
  fixed,
  MemoryStorage,
  metricsHandler,
  PROMETHEUS_CONTENT_TYPE,
  prometheusText,
  Queue,
  type QueueSummary,
  type Storage,
  StorageError,
  type TaskSeriesSnapshot,
  Worker,
  type WorkerInfo,
} from "../mod.ts";
import { FakeClock } from "../testing.ts";
import { promtoolCheck } from "./_promtool.ts";

async function assertValid(text: string): Promise<void> {
  const { code, output } = await promtoolCheck(text);
  assert.equal(code, 0, `promtool check metrics failed:\n${output}\n--- text ---\n${text}`);
}

/** The value of the one sample `series` (name and labels as written) in `text`. */
function sample(text: string, series: string): number {
  const lines = text.split("\n").filter((l) => l.startsWith(series + " "));
  assert.equal(lines.length, 1, `expected one sample ${series}, found ${lines.length}:\n${text}`);
  return Number(lines[0].slice(series.length + 1));
}

const counts = { waiting: 3, delayed: 1, active: 2, completed: 10, failed: 4 };

function histogram(bounds: number[], counts: number[], sum: number) {
  return { bounds, counts, sum, count: counts[counts.length - 1] };
}

function literalSeries(queue: string, task: string): TaskSeriesSnapshot {
  return {
    queue,
    task,
    completed: 5,
    failed: 1,
    retried: 2,
    stalls: 1,
    duration: histogram([0.1, 1], [3, 7, 8], 2.5),
    queueWait: histogram([1], [8, 8], 0.25),
  };
}

function liveWorker(id: string, running: number): WorkerInfo {
  return {
    id,
    host: "h",
    pid: 1,
    runtime: "deno",
    runtimeVersion: "2",
    queues: ["default"],
    concurrency: 10,
    running,
    processed: 0,
    failed: 0,
    startedAt: 0,
    lastSeen: 0,
  };
}

describe("prometheusText", () => {
  test("a worker's run: promtool accepts it, and the counts and histograms are what ran", async () => {
    const clock = new FakeClock();
    const storage = new MemoryStorage({ clock });
    const queue = new Queue({ storage, clock });
    const task = defineTask({
      name: "m",
      maxAttempts: 2,
      retry: fixed(1_000),
      handler: async (n: number, ctx) => {
        await clock.sleep(n * 10);
        if (n === 3 && ctx.job.attempt === 1) throw new Error("retry me");
        if (n === 4) throw new Error("always");
      },
    });
    const other = defineTask({ name: "o", queue: "other", handler: () => "ok" });
    const worker = new Worker({
      storage,
      clock,
      tasks: [task, other],
      queues: ["default", "other"],
      concurrency: 10,
    });
    await worker.start();
    await queue.enqueueMany(task, [1, 2, 3, 4, 5]);
    await queue.enqueue(other, null, { delay: 0 });
    await clock.advance(5_000);
    const text = prometheusText({ workers: [worker] });
    await worker.stop({ timeout: 0 });
    await assertValid(text);

    const at = 'queue="default",task="m"';
    // 1, 2, 5 complete; 3 is retried once, then completes; 4 retried once, then fails.
    assert.equal(sample(text, `taskmill_attempts_total{${at},outcome="completed"}`), 4);
    assert.equal(sample(text, `taskmill_attempts_total{${at},outcome="retried"}`), 2);
    assert.equal(sample(text, `taskmill_attempts_total{${at},outcome="failed"}`), 1);
    assert.equal(sample(text, `taskmill_stalls_total{${at}}`), 0);
    // Durations 10, 20, 30 (twice), 40 (twice), 50 ms: 7 handlers.
    assert.equal(sample(text, `taskmill_handler_duration_seconds_count{${at}}`), 7);
    assert.ok(
      Math.abs(sample(text, `taskmill_handler_duration_seconds_sum{${at}}`) - 0.22) < 1e-9,
    );
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="0.01"}`), 1);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="0.025"}`), 2);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="0.05"}`), 7);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="+Inf"}`), 7);
    assert.equal(sample(text, `taskmill_queue_wait_seconds_count{${at}}`), 7);
    const o = 'queue="other",task="o"';
    assert.equal(sample(text, `taskmill_attempts_total{${o},outcome="completed"}`), 1);
    assert.equal(sample(text, `taskmill_queue_wait_seconds_bucket{${o},le="0.001"}`), 1);
    // One HELP and one TYPE per family, whatever the number of series.
    assert.equal(text.match(/^# TYPE taskmill_attempts_total counter$/gm)?.length, 1);
    assert.equal(text.match(/^# HELP taskmill_attempts_total /gm)?.length, 1);
  });

  test("a job of an unknown task counts as failed under its name; releases are not counted", async () => {
    const clock = new FakeClock();
    const storage = new MemoryStorage({ clock });
    const queue = new Queue({ storage, clock });
    const known = defineTask({ name: "known", handler: () => 1 });
    const failing = new Worker({ storage, clock, tasks: [known], unknownTasks: "fail" });
    await failing.start();
    await queue.enqueue("ghost", null);
    await clock.advance(1_000);
    await failing.stop({ timeout: 0 });
    const text = prometheusText({ workers: [failing] });
    await assertValid(text);
    const at = 'queue="default",task="ghost"';
    assert.equal(sample(text, `taskmill_attempts_total{${at},outcome="failed"}`), 1);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_count{${at}}`), 0);

    const waiting = new Worker({
      storage,
      clock,
      tasks: [known],
      unknownTasks: "wait",
      unknownTaskDelay: 60_000,
    });
    await waiting.start();
    await queue.enqueue("ghost2", null);
    await clock.advance(1_000);
    await waiting.stop({ timeout: 0 });
    assert.deepEqual(waiting.metricSeries(), []);
  });

  test("stalls: a handler that outlives its lease counts one for its queue and task", async () => {
    const clock = new FakeClock();
    const storage = new MemoryStorage({ clock });
    const queue = new Queue({ storage, clock });
    const slow = defineTask({
      name: "slow",
      handler: (_: null, ctx) =>
        new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)),
    });
    const worker = new Worker({ storage, clock, tasks: [slow], leaseMs: 1_000, heartbeatMs: 300 });
    // Renewals refused: the lease is lost while the handler runs.
    const refusing = storage as unknown as { extendLeases: Storage["extendLeases"] };
    refusing.extendLeases = (leases) => Promise.resolve(leases.map(() => false));
    await worker.start();
    await queue.enqueue(slow, null);
    // The first heartbeat (300 ms) loses it; it is not reclaimed before 1 000 ms.
    await clock.advance(500);
    await worker.stop({ timeout: 0 });
    const text = prometheusText({ workers: [worker] });
    await assertValid(text);
    assert.equal(sample(text, 'taskmill_stalls_total{queue="default",task="slow"}'), 1);
  });

  test("label values are escaped (backslash, double quote, newline) and promtool accepts them", async () => {
    const odd = 'a\\b"c\nd';
    const text = prometheusText({
      series: [literalSeries("default", odd)],
      queues: [{ name: odd, counts, paused: true }],
      liveWorkers: [liveWorker(odd, 2)],
    });
    await assertValid(text);
    const escaped = 'a\\\\b\\"c\\nd';
    assert.equal(
      sample(text, `taskmill_attempts_total{queue="default",task="${escaped}",outcome="failed"}`),
      1,
    );
    assert.equal(sample(text, `taskmill_jobs{queue="${escaped}",state="failed"}`), 4);
    assert.equal(sample(text, `taskmill_queue_paused{queue="${escaped}"}`), 1);
    assert.equal(sample(text, `taskmill_worker_running{worker="${escaped}"}`), 2);
  });

  test("literal data: every family, histograms cumulative with +Inf, series of two workers summed", async () => {
    const queues: QueueSummary[] = [
      { name: "default", counts, paused: false },
      { name: "images", counts: { ...counts, waiting: 0 }, paused: true },
    ];
    const a = { metricSeries: () => [literalSeries("default", "t")] };
    const b = { metricSeries: () => [literalSeries("default", "t"), literalSeries("images", "r")] };
    const text = prometheusText({
      workers: [a, b],
      queues,
      liveWorkers: [liveWorker("w1", 3), liveWorker("w2", 0)],
    });
    await assertValid(text);
    const at = 'queue="default",task="t"';
    assert.equal(sample(text, `taskmill_attempts_total{${at},outcome="completed"}`), 10);
    assert.equal(sample(text, `taskmill_stalls_total{${at}}`), 2);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="0.1"}`), 6);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="1"}`), 14);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_bucket{${at},le="+Inf"}`), 16);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_sum{${at}}`), 5);
    assert.equal(sample(text, `taskmill_handler_duration_seconds_count{${at}}`), 16);
    assert.equal(
      sample(text, 'taskmill_attempts_total{queue="images",task="r",outcome="retried"}'),
      2,
    );
    assert.equal(sample(text, 'taskmill_jobs{queue="default",state="waiting"}'), 3);
    assert.equal(sample(text, 'taskmill_jobs{queue="images",state="waiting"}'), 0);
    assert.equal(sample(text, 'taskmill_queue_paused{queue="images"}'), 1);
    assert.equal(sample(text, 'taskmill_queue_paused{queue="default"}'), 0);
    assert.equal(sample(text, "taskmill_workers_alive"), 2);
    assert.equal(sample(text, 'taskmill_worker_running{worker="w1"}'), 3);
    assert.equal(sample(text, 'taskmill_worker_concurrency{worker="w2"}'), 10);
    assert.match(text, /^# TYPE taskmill_handler_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE taskmill_jobs gauge$/m);
    assert.ok(text.endsWith("\n"));
  });

  test("a prefix renames every family; a bad one is refused; nothing to expose gives empty text", async () => {
    const text = prometheusText({ series: [literalSeries("q", "t")], prefix: "app_jobs" });
    await assertValid(text);
    assert.equal(sample(text, 'app_jobs_stalls_total{queue="q",task="t"}'), 1);
    assert.doesNotMatch(text, /taskmill_/);
    assert.throws(() => prometheusText({ prefix: "bad-prefix" }), /prefix must match/);
    assert.equal(prometheusText({}), "");
    assert.equal(sample(prometheusText({ liveWorkers: [] }), "taskmill_workers_alive"), 0);
  });
});

describe("metricsHandler", () => {
  const summary: QueueSummary[] = [{ name: "default", counts, paused: false }];
  const fakeStorage = (fail?: unknown) => ({
    queues: () => fail === undefined ? Promise.resolve(summary) : Promise.reject(fail),
    workers: (now: number) => Promise.resolve([{ ...liveWorker("w1", 1), lastSeen: now }]),
  });

  test("GET answers 200 with the 0.0.4 content type and the text, on any path", async () => {
    const clock = new FakeClock();
    const handler = metricsHandler({ storage: fakeStorage(), clock });
    for (const path of ["/metrics", "/anything"]) {
      const response = await handler(new Request(`http://localhost${path}`));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
      const text = await response.text();
      assert.equal(sample(text, 'taskmill_jobs{queue="default",state="active"}'), 2);
      assert.equal(sample(text, "taskmill_workers_alive"), 1);
      await assertValid(text);
    }
  });

  test("HEAD answers 200 with no body; other methods 405 with Allow", async () => {
    const handler = metricsHandler({ storage: fakeStorage() });
    const head = await handler(new Request("http://localhost/metrics", { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    assert.equal(await head.text(), "");
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await handler(new Request("http://localhost/metrics", { method }));
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      await response.body?.cancel();
    }
  });

  test("a storage error answers 503: a StorageError's message, only the name of anything else", async () => {
    const storageError = metricsHandler({
      storage: fakeStorage(new StorageError("Redis at redis://app:***@db:6379 is unreachable")),
    });
    let response = await storageError(new Request("http://localhost/metrics"));
    assert.equal(response.status, 503);
    assert.equal(
      await response.text(),
      "Storage unavailable: Redis at redis://app:***@db:6379 is unreachable\n",
    );
    const raw = metricsHandler({
      storage: fakeStorage(new TypeError("connect redis://app:hunter2@db:6379 failed")),
    });
    response = await raw(new Request("http://localhost/metrics"));
    assert.equal(response.status, 503);
    const body = await response.text();
    assert.equal(body, "Storage unavailable: TypeError\n");
    assert.doesNotMatch(body, /hunter2/);
  });

  test("workers only (no storage): their series; a bad prefix fails at once", async () => {
    const handler = metricsHandler({
      workers: [{ metricSeries: () => [literalSeries("q", "t")] }],
    });
    const text = await (await handler(new Request("http://localhost/"))).text();
    assert.equal(
      sample(text, 'taskmill_attempts_total{queue="q",task="t",outcome="completed"}'),
      5,
    );
    assert.doesNotMatch(text, /taskmill_jobs/);
    assert.throws(() => metricsHandler({ prefix: "9x" }), /prefix must match/);
  });
});
