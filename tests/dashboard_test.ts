// The dashboard's handler, called with `new Request(...)` (no server, no
// browser): pages, escaping, CSRF, read-only, authorize, basePath, the
// truncated payload, the SSE stream; on MemoryStorage and once on Redis.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineTask, JobFailedError, MemoryStorage, Queue, type Storage, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import {
  dashboard,
  type DashboardOptions,
  escapeHtml,
  html,
  jsonForScript,
  raw,
  serveFetch,
} from "../dashboard/mod.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";

const ORIGIN = "http://dash.test";
const XSS_SCRIPT = "<script>alert(1)</script>";
const XSS_IMG = "<img src=x onerror=alert(1)>";

type Handler = (request: Request) => Promise<Response>;

function make(options: Partial<DashboardOptions> = {}) {
  const storage = options.storage ?? new MemoryStorage();
  const handler = dashboard({ storage, ...options });
  return { storage, queue: new Queue({ storage }), handler };
}

async function get(handler: Handler, path: string, headers: HeadersInit = {}) {
  const response = await handler(new Request(ORIGIN + path, { headers }));
  return { response, body: squash(await response.text()) };
}

/**
 * `html` with its layout whitespace squashed (deno fmt lays the templates
 * out): runs of whitespace become one space, none next to a tag's brackets.
 */
function squash(html: string): string {
  return html.replace(/\s+/g, " ").replace(/>\s+/g, ">").replace(/\s+</g, "<").replace(
    /\s+>/g,
    ">",
  );
}

/** The form token embedded in a page's forms. */
async function tokenOf(handler: Handler, path: string): Promise<string> {
  const { body } = await get(handler, path);
  const match = body.match(/name="_token" value="([0-9a-f]{64})"/);
  assert.ok(match, `no form token on ${path}`);
  return match[1];
}

function post(
  handler: Handler,
  path: string,
  token: string | undefined,
  headers: Record<string, string> = { origin: ORIGIN },
): Promise<Response> {
  const form = new URLSearchParams();
  if (token !== undefined) form.set("_token", token);
  return handler(
    new Request(ORIGIN + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: form,
    }),
  );
}

/** Rejects when `promise` takes longer than `ms` of real time. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const broken = defineTask({
  name: "broken",
  maxAttempts: 1,
  handler: (payload: { message: string }) => {
    throw new Error(payload.message);
  },
});
const echo = defineTask({ name: "echo", handler: (payload: unknown) => payload });

/** Runs `jobs` of broken/echo to their end on a worker, then stops it. */
async function runToEnd(storage: Storage, ids: string[]): Promise<void> {
  const queue = new Queue({ storage });
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
  const queues = [...new Set(jobs.map((job) => job!.queue))];
  const worker = new Worker({ storage, tasks: [broken, echo], queues, concurrency: 4 });
  await worker.start();
  try {
    for (const id of ids) {
      await within(
        queue.result(id).catch((error) => {
          if (!(error instanceof JobFailedError)) throw error;
        }),
        10_000,
        `job ${id}`,
      );
    }
  } finally {
    await worker.stop();
  }
}

function assertNoRawMarkup(body: string): void {
  assert.doesNotMatch(body, /<script>alert/);
  assert.doesNotMatch(body, /<img src=x/);
  assert.doesNotMatch(body, /<script(?![^>]*src=")[^>]*>/, "an inline script");
}

describe("dashboard: html helper", () => {
  test("escapes every interpolation, joins arrays, keeps raw() and html`` fragments", () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&`),
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;",
    );
    const items = [XSS_SCRIPT, html`<b>${XSS_IMG}</b>`];
    const out = html`<p title="${XSS_IMG}">${items}${
      raw("<br>")
    }${null}${undefined}${false}${0}</p>`;
    assert.equal(
      out.value,
      '<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;script&gt;alert(1)&lt;/script&gt;' +
        "<b>&lt;img src=x onerror=alert(1)&gt;</b><br>0</p>",
    );
  });

  test("JSON for a script element has no < left", () => {
    const value = { a: "</script><script>alert(1)</script>", b: [1, "<"] };
    const out = jsonForScript(value).value;
    assert.ok(!out.includes("<"), out);
    assert.deepEqual(JSON.parse(out), value);
  });
});

describe("dashboard on MemoryStorage", () => {
  test("options are checked, naming the bad one", () => {
    const storage = new MemoryStorage();
    assert.throws(
      () => dashboard({ storage, basepath: "/x" } as unknown as DashboardOptions),
      /Cannot create dashboard: options\.basepath is not an option \(did you mean basePath\?\)/,
    );
    assert.throws(
      () => dashboard({ storage, basePath: "admin" }),
      /options\.basePath must be a path/,
    );
    assert.throws(() => dashboard({ storage, basePath: '/a"b' }), /options\.basePath/);
    assert.throws(
      () => dashboard({ storage, readOnly: "yes" as unknown as boolean }),
      /options\.readOnly must be a boolean/,
    );
    assert.throws(
      () => dashboard({ storage: {} as Storage }),
      /options\.storage must be a Storage/,
    );
  });

  test("overview: each queue's counts, paused flag, totals, sparklines, live workers; security headers", async () => {
    const { handler, queue, storage } = make();
    await queue.enqueueMany("echo", [1, 2, 3], { queue: "mail" });
    await queue.enqueue("echo", 4, { queue: "reports", delay: 60_000 });
    await queue.pause("reports");
    const { response, body } = await get(handler, "/");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(
      response.headers.get("content-security-policy"),
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    );
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("referrer-policy"), "same-origin");
    assert.match(body, /<tr data-test="queue-row" data-queue="mail">/);
    assert.match(body, /<tr data-test="queue-row" data-queue="reports">/);
    const mailRow = body.match(/data-queue="mail">.*?<\/tr>/s)![0];
    assert.match(mailRow, /data-test="count-waiting">3</);
    assert.match(mailRow, /data-test="queue-status">running/);
    const reportsRow = body.match(/data-queue="reports">.*?<\/tr>/s)![0];
    assert.match(reportsRow, /data-test="count-delayed">1</);
    assert.match(reportsRow, /paused/);
    assert.match(body, /data-test="total-waiting">3</);
    assert.match(body, /data-test="total-delayed">1</);
    assert.equal(body.match(/data-test="sparkline"/g)?.length, 2);
    assert.match(body, /data-test="worker-count">0</);
    assertNoRawMarkup(body);
    // A worker shows up while it runs, and the sparkline counts what it did.
    await runToEnd(storage, (await queue.list("mail", "waiting")).map((j) => j.id));
    const worker = new Worker({ storage, tasks: [echo], queues: ["other"] });
    await worker.start();
    try {
      const live = await get(handler, "/");
      assert.match(live.body, /data-test="worker-count">1</);
      assert.ok(
        live.body.includes(`data-test="worker-row" data-worker="${escapeHtml(worker.id)}"`),
      );
      const mail = live.body.match(/data-queue="mail">.*?<\/tr>/s)![0];
      assert.match(mail, /data-completed="3" data-failed="0"/);
    } finally {
      await worker.stop();
    }
  });

  test("queue page: jobs by state, 50 a page, the state tabs, find-by-id form", async () => {
    const { handler, queue } = make();
    await queue.enqueueMany("echo", Array.from({ length: 120 }, (_, i) => i), { queue: "bulk" });
    await queue.enqueue("echo", "later", { queue: "bulk", delay: 60_000, id: "later-1" });
    const first = await get(handler, "/queues/bulk");
    assert.equal(first.response.status, 200);
    assert.equal(first.body.match(/data-test="job-row"/g)?.length, 50);
    assert.match(first.body, /data-test="count-waiting">120</);
    assert.match(first.body, /data-test="count-delayed">1</);
    assert.match(
      first.body,
      /href="\/queues\/bulk\?state=waiting&amp;page=2" data-test="next-page"/,
    );
    assert.doesNotMatch(first.body, /data-test="prev-page"/);
    assert.match(first.body, /<form method="get" action="\/find" data-test="find-form">/);
    const third = await get(handler, "/queues/bulk?state=waiting&page=3");
    assert.equal(third.body.match(/data-test="job-row"/g)?.length, 20);
    assert.doesNotMatch(third.body, /data-test="next-page"/);
    assert.match(third.body, /data-test="prev-page"/);
    const delayed = await get(handler, "/queues/bulk?state=delayed");
    assert.match(delayed.body, /data-job-id="later-1"/);
    assert.match(delayed.body, /data-test="promote-button"/);
    assert.equal((await get(handler, "/queues/bulk?state=nope")).response.status, 404);
    assert.equal((await get(handler, "/queues/bulk?page=0")).response.status, 404);
    const found = await handler(new Request(`${ORIGIN}/find?id=${encodeURIComponent("a/b c")}`));
    assert.equal(found.status, 303);
    assert.equal(found.headers.get("location"), "/jobs/a%2Fb%20c");
  });

  test("job page: timeline, payload, result, errors with stacks; workers page: who runs what, lease owner", async () => {
    const { handler, queue, storage } = make();
    const ok = await queue.enqueue("echo", { hello: "world" }, { id: "ok-1" });
    const bad = await queue.enqueue("broken", { message: "boom" }, { id: "bad-1" });
    await runToEnd(storage, [ok.id, bad.id]);
    const done = await get(handler, "/jobs/ok-1");
    assert.equal(done.response.status, 200);
    assert.match(done.body, /data-test="job-state">completed</);
    assert.match(
      done.body,
      /data-test="payload">\{ &quot;hello&quot;: &quot;world&quot; \}</,
    );
    assert.match(done.body, /data-test="result">/);
    assert.match(done.body, /data-test="finished-at"><time/);
    assert.match(done.body, /data-test="remove-button"/);
    assert.doesNotMatch(done.body, /data-test="retry-button"/);
    const failed = await get(handler, "/jobs/bad-1");
    assert.match(failed.body, /data-test="job-state">failed</);
    assert.match(failed.body, /data-test="error-message">boom</);
    assert.match(failed.body, /data-test="error-stack">Error: boom/);
    assert.match(failed.body, /data-test="retry-button"/);
    assert.equal((await get(handler, "/jobs/missing")).response.status, 404);
    assert.doesNotMatch(done.body, /data-test="dedupe-key"/);
    await queue.enqueue("echo", null, { id: "keyed-1", dedupe: { key: "user:<ada>" } });
    const keyed = await get(handler, "/jobs/keyed-1");
    assert.match(keyed.body, /data-test="dedupe-key">user:&lt;ada&gt;</);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = defineTask({ name: "slow", queue: "slowq", handler: () => gate });
    const worker = new Worker({ storage, tasks: [slow] });
    const job = await queue.enqueue(slow, null, { id: "slow-1" });
    await worker.start();
    try {
      await within(
        (async () => {
          while ((await queue.getJob(job.id))?.state !== "active") {
            await new Promise((r) => setTimeout(r, 10));
          }
        })(),
        5_000,
        "the slow job to start",
      );
      const workers = await get(handler, "/workers");
      assert.equal(workers.response.status, 200);
      assert.ok(
        workers.body.includes(`data-test="worker" data-worker="${escapeHtml(worker.id)}"`),
        workers.body,
      );
      assert.match(workers.body, /data-test="worker-job-row"><td><a href="\/jobs\/slow-1"/);
      const active = await get(handler, "/jobs/slow-1");
      assert.ok(active.body.includes(`data-test="lease-owner">${escapeHtml(worker.id)}<`));
      assert.doesNotMatch(active.body, /data-test="remove-button"/);
    } finally {
      release();
      await worker.stop();
    }
    const idle = await get(handler, "/workers");
    assert.match(idle.body, /data-test="no-workers"/);
  });

  test("payloads, results, errors, job ids and names holding markup render as text", async () => {
    const { handler, queue, storage } = make();
    const id = `${XSS_SCRIPT}${XSS_IMG}/x`;
    await queue.enqueue("broken", { message: XSS_IMG, note: XSS_SCRIPT }, { id, queue: "evil" });
    await runToEnd(storage, [id]);
    const echoId = `e${XSS_IMG}`;
    await queue.enqueue("echo", { html: XSS_SCRIPT }, { id: echoId, queue: "evil" });
    await runToEnd(storage, [echoId]);
    const pages = [
      "/",
      "/queues/evil?state=failed",
      "/queues/evil?state=completed",
      `/jobs/${encodeURIComponent(id)}`,
      `/jobs/${encodeURIComponent(echoId)}`,
      `/jobs/${encodeURIComponent("<script>nope</script>")}`,
      `/queues/${encodeURIComponent(XSS_SCRIPT)}`,
    ];
    for (const path of pages) {
      const { body } = await get(handler, path);
      assertNoRawMarkup(body);
    }
    const failedPage = await get(handler, `/jobs/${encodeURIComponent(id)}`);
    assert.equal(failedPage.response.status, 200);
    assert.ok(failedPage.body.includes(escapeHtml(id)));
    assert.ok(failedPage.body.includes(`data-test="error-message">${escapeHtml(XSS_IMG)}<`));
    assert.ok(
      failedPage.body.includes(
        "&quot;note&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;",
      ),
    );
    const list = await get(handler, "/queues/evil?state=failed");
    assert.ok(list.body.includes(`href="/jobs/${encodeURIComponent(id)}"`));
    const done = await get(handler, `/jobs/${encodeURIComponent(echoId)}`);
    assert.ok(done.body.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    const missing = await get(handler, `/jobs/${encodeURIComponent("<script>nope</script>")}`);
    assert.equal(missing.response.status, 404);
    assert.ok(missing.body.includes("&lt;script&gt;nope&lt;/script&gt;"));
    const payload = await handler(
      new Request(`${ORIGIN}/jobs/${encodeURIComponent(id)}/payload.json`),
    );
    assert.equal(payload.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(payload.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(await payload.json(), { message: XSS_IMG, note: XSS_SCRIPT });
  });

  test("a 1 MiB payload is shown cut at 10 000 characters, with a link to all of it", async () => {
    const { handler, queue } = make();
    const big = "x".repeat(1024 * 1024 - 64);
    await queue.enqueue("echo", { big }, { id: "big-1" });
    const { body } = await get(handler, "/jobs/big-1");
    assert.ok(body.length < 30_000, `page is ${body.length} characters`);
    assert.match(body, /data-test="payload-truncated">Showing the first 10000 of \d+ characters/);
    assert.match(body, /href="\/jobs\/big-1\/payload\.json" data-test="payload-full"/);
    const full = await handler(new Request(`${ORIGIN}/jobs/big-1/payload.json`));
    assert.equal(((await full.json()) as { big: string }).big, big);
  });

  test("actions need the same origin and the form token; with both they are done (303)", async () => {
    const { handler, queue, storage } = make();
    await queue.enqueue("broken", { message: "x" }, { id: "f1", queue: "work" });
    await queue.enqueue("broken", { message: "x" }, { id: "f2", queue: "work" });
    await queue.enqueue("broken", { message: "x" }, { id: "f3", queue: "work" });
    await runToEnd(storage, ["f1", "f2", "f3"]);
    const token = await tokenOf(handler, "/queues/work?state=failed");
    assert.equal((await post(handler, "/queues/work/pause", undefined)).status, 403);
    assert.equal((await post(handler, "/queues/work/pause", "0".repeat(64))).status, 403);
    assert.equal(
      (await post(handler, "/queues/work/pause", token, { origin: "http://evil.test" })).status,
      403,
    );
    assert.equal(
      (await post(handler, "/queues/work/pause", token, { "sec-fetch-site": "cross-site" })).status,
      403,
    );
    assert.equal(
      (await post(handler, "/queues/work/pause", token, {})).status,
      403,
      "no origin at all",
    );
    assert.equal(
      (await post(handler, "/queues/work/pause", token, { referer: "http://evil.test/x" })).status,
      403,
    );
    assert.equal(await queue.isPaused("work"), false, "nothing refused was done");
    const paused = await post(handler, "/queues/work/pause", token);
    assert.equal(paused.status, 303);
    assert.equal(paused.headers.get("location"), "/queues/work");
    assert.equal(await queue.isPaused("work"), true);
    const pausedPage = await get(handler, "/queues/work");
    assert.match(pausedPage.body, /data-test="paused-flag"/);
    assert.match(pausedPage.body, /data-test="resume-button"/);
    // The Referer fallback and Sec-Fetch-Site same-origin both pass.
    const resumed = await post(handler, "/queues/work/resume", token, {
      referer: `${ORIGIN}/queues/work`,
    });
    assert.equal(resumed.status, 303);
    assert.equal(await queue.isPaused("work"), false);
    const retried = await post(handler, "/jobs/f1/retry", token, {
      "sec-fetch-site": "same-origin",
    });
    assert.equal(retried.status, 303);
    assert.equal(retried.headers.get("location"), "/jobs/f1");
    assert.equal((await queue.getJob("f1"))?.state, "waiting");
    const removed = await post(handler, "/jobs/f1/remove", token);
    assert.equal(removed.status, 303);
    assert.equal(await queue.getJob("f1"), null);
    const all = await post(handler, "/queues/work/retry-failed", token);
    assert.equal(all.status, 303);
    assert.deepEqual((await queue.counts("work")).waiting, 2);
    assert.deepEqual((await queue.counts("work")).failed, 0);
    await queue.pause("work"); // so the retried jobs stay put for the next step
    assert.equal((await post(handler, "/queues/work/nope", token)).status, 404);
  });

  test("remove all failed, and promote a delayed job to run now", async () => {
    const { handler, queue, storage } = make();
    await queue.enqueue("broken", { message: "x" }, { id: "g1", queue: "q" });
    await queue.enqueue("broken", { message: "x" }, { id: "g2", queue: "q" });
    await runToEnd(storage, ["g1", "g2"]);
    const token = await tokenOf(handler, "/queues/q?state=failed");
    const page = await get(handler, "/queues/q?state=failed");
    assert.match(page.body, /data-confirm="Remove all 2 failed jobs of q\?"/);
    assert.equal((await post(handler, "/queues/q/remove-failed", token)).status, 303);
    assert.equal((await queue.counts("q")).failed, 0);
    assert.equal(await queue.getJob("g1"), null);
    await queue.enqueue("echo", { keep: true }, {
      id: "d1",
      queue: "q",
      delay: 3_600_000,
      priority: 7,
    });
    assert.equal((await post(handler, "/jobs/d1/promote", token)).status, 303);
    const promoted = await queue.getJob("d1");
    assert.equal(promoted?.state, "waiting");
    assert.deepEqual(promoted?.payload, { keep: true });
    assert.equal(promoted?.priority, 7);
    // Not delayed: nothing happens.
    assert.equal((await post(handler, "/jobs/d1/promote", token)).status, 303);
    assert.equal((await queue.getJob("d1"))?.state, "waiting");
    // A job delayed by a retry keeps its attempt and error history.
    await queue.enqueue("echo", null, { id: "d2", queue: "later" });
    const now = Date.now();
    const { jobs } = await storage.reserve({
      queues: ["later"],
      limit: 1,
      owner: "w",
      leaseMs: 60_000,
      now,
    });
    const error = { message: "try later", name: "Error", attempt: 1, at: now };
    assert.deepEqual(
      await storage.settle([{
        kind: "retry",
        id: "d2",
        token: jobs[0].lease!.token,
        error,
        runAt: now + 3_600_000,
      }], { now }),
      [true],
    );
    assert.equal((await post(handler, "/jobs/d2/promote", token)).status, 303);
    const retried = await queue.getJob("d2");
    assert.equal(retried?.state, "waiting");
    assert.equal(retried?.attempt, 1);
    assert.deepEqual(retried?.errors?.map((e) => e.message), ["try later"]);
  });

  test("readOnly: no action buttons or forms, and every POST answers 403", async () => {
    const { handler, queue, storage } = make({ readOnly: true });
    await queue.enqueue("broken", { message: "x" }, { id: "r1", queue: "ro" });
    await queue.enqueue("echo", 1, { id: "r2", queue: "ro", delay: 60_000 });
    await runToEnd(storage, ["r1"]);
    for (
      const path of [
        "/",
        "/queues/ro?state=failed",
        "/queues/ro?state=delayed",
        "/jobs/r1",
        "/jobs/r2",
        "/workers",
      ]
    ) {
      const { response, body } = await get(handler, path);
      assert.equal(response.status, 200, path);
      assert.doesNotMatch(body, /method="post"/, path);
      assert.doesNotMatch(body, /data-test="(?!find-)[a-z-]+-button"/, path);
    }
    const token = "0".repeat(64);
    for (const path of ["/queues/ro/pause", "/jobs/r1/retry", "/jobs/r1/remove"]) {
      assert.equal((await post(handler, path, token)).status, 403, path);
    }
    assert.equal(await queue.isPaused("ro"), false);
    assert.equal((await queue.getJob("r1"))?.state, "failed");
  });

  test("authorize: false answers 401 on every route; a Response is passed through", async () => {
    const seen: string[] = [];
    const { handler } = make({
      authorize: (request) => {
        seen.push(new URL(request.url).pathname);
        return request.headers.get("x-user") === "admin"
          ? true
          : request.headers.get("x-user") === "guest"
          ? new Response("go away", { status: 403 })
          : false;
      },
    });
    const paths = [
      "/",
      "/queues/a",
      "/jobs/x",
      "/jobs/x/payload.json",
      "/workers",
      "/events",
      "/assets/app.css",
      "/assets/app.js",
      "/nope",
    ];
    for (const path of paths) {
      const { response } = await get(handler, path);
      assert.equal(response.status, 401, path);
      const guest = await get(handler, path, { "x-user": "guest" });
      assert.equal(guest.response.status, 403, path);
      assert.equal(guest.body, "go away");
    }
    assert.equal((await post(handler, "/queues/a/pause", "x")).status, 401);
    const { response, body } = await get(handler, "/", { "x-user": "admin" });
    assert.equal(response.status, 200);
    assert.match(body, /Overview/);
    assert.ok(seen.includes("/events"));
  });

  test("basePath: every link, form, asset and the events URL is under it; other paths 404", async () => {
    const { handler, queue, storage } = make({ basePath: "/admin/jobs/", title: "Jobs <admin>" });
    await queue.enqueue("broken", { message: "x" }, { id: "b/1", queue: "mq" });
    await queue.enqueue("echo", 1, { id: "b2", queue: "mq", delay: 60_000 });
    await runToEnd(storage, ["b/1"]);
    const pages = [
      "/admin/jobs/",
      "/admin/jobs/queues/mq?state=failed",
      "/admin/jobs/queues/mq?state=delayed",
      "/admin/jobs/jobs/b%2F1",
      "/admin/jobs/jobs/b2",
      "/admin/jobs/workers",
    ];
    for (const path of pages) {
      const { response, body } = await get(handler, path);
      assert.equal(response.status, 200, path);
      assert.match(body, /Jobs &lt;admin&gt;/);
      const urls = [...body.matchAll(/(?:href|src|action|data-events-url)="([^"]*)"/g)].map((m) =>
        m[1]
      );
      assert.ok(urls.length > 5, path);
      for (const url of urls) assert.ok(url.startsWith("/admin/jobs/"), `${path}: ${url}`);
    }
    assert.equal((await get(handler, "/admin/jobs/assets/app.css")).response.status, 200);
    assert.equal((await get(handler, "/")).response.status, 404);
    assert.equal((await get(handler, "/queues/mq")).response.status, 404);
    assert.equal((await get(handler, "/admin/jobsx/")).response.status, 404);
    const bare = await handler(new Request(`${ORIGIN}/admin/jobs`));
    assert.equal(bare.status, 303);
    assert.equal(bare.headers.get("location"), "/admin/jobs/");
    const token = await tokenOf(handler, "/admin/jobs/queues/mq?state=failed");
    const retried = await post(handler, "/admin/jobs/jobs/b%2F1/retry", token);
    assert.equal(retried.status, 303);
    assert.equal(retried.headers.get("location"), "/admin/jobs/jobs/b%2F1");
    assert.equal((await queue.getJob("b/1"))?.state, "waiting");
    assert.equal((await post(handler, "/queues/mq/pause", token)).status, 404);
    assert.equal(await queue.isPaused("mq"), false);
  });

  test("assets: CSS and JS with long cache headers, no inline code anywhere", async () => {
    const { handler } = make();
    const css = await handler(new Request(`${ORIGIN}/assets/app.css`));
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    assert.match(css.headers.get("cache-control") ?? "", /max-age=31536000/);
    assert.match(await css.text(), /prefers-color-scheme: dark/);
    const js = await handler(new Request(`${ORIGIN}/assets/app.js`));
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await js.text(), /new EventSource\(eventsUrl\)/);
    const { body } = await get(handler, "/");
    assert.doesNotMatch(body, /<style|style="|onclick=|onsubmit=/);
    assert.match(body, /<script src="\/assets\/app\.js" defer><\/script>/);
    assert.equal((await handler(new Request(`${ORIGIN}/`, { method: "PUT" }))).status, 405);
  });

  test("events: a text/event-stream that sends an event after an enqueue, and ends on abort", async () => {
    const { handler, queue } = make();
    await queue.enqueue("echo", 1, { queue: "live" }); // the queue exists before the stream starts
    const abort = new AbortController();
    const response = await handler(new Request(`${ORIGIN}/events`, { signal: abort.signal }));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${received}`);
        received += decoder.decode(value, { stream: true });
      }
    };
    await within(readUntil(/^: connected\n/), 5_000, "the connected comment");
    const job = await queue.enqueue("echo", 2, { queue: "live", id: "live-1" });
    await within(readUntil(/data: \{[^\n]*"live-1"/), 5_000, "the enqueued event");
    const line = received.match(/id: (live:\d+)\ndata: (\{[^\n]*"live-1"[^\n]*\})\n\n/);
    assert.ok(line, received);
    assert.deepEqual(JSON.parse(line[2]), {
      type: "enqueued",
      queue: "live",
      jobId: job.id,
      at: job.enqueuedAt,
    });
    abort.abort();
    const ended = await within(
      (async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return true;
        }
      })(),
      5_000,
      "the stream to end after abort",
    );
    assert.equal(ended, true);
  });
});

describe("dashboard on a store without events", () => {
  test("pages still render; /events answers 204 (EventSource stops); on an empty store it connects", async () => {
    const { handler, queue } = make({ storage: new MemoryStorage({ eventBacklog: 0 }) });
    await queue.enqueue("echo", 1, { queue: "quiet" });
    const { response, body } = await get(handler, "/");
    assert.equal(response.status, 200);
    assert.match(body, /data-queue="quiet"/);
    const events = await handler(new Request(`${ORIGIN}/events`));
    assert.equal(events.status, 204);
    assert.equal(events.body, null);

    const empty = make();
    const abort = new AbortController();
    const stream = await empty.handler(new Request(`${ORIGIN}/events`, { signal: abort.signal }));
    const reader = stream.body!.getReader();
    const first = await within(reader.read(), 5_000, "the connected comment");
    assert.match(new TextDecoder().decode(first.value), /^: connected\n/);
    abort.abort();
    await within(
      (async () => {
        while (!(await reader.read()).done);
      })(),
      5_000,
      "the stream to end",
    );
  });
});

describe("dashboard over HTTP (serveFetch on this runtime)", () => {
  test("the event stream reaches the client as it happens, and ends when the client goes", async () => {
    const { handler, queue } = make();
    await queue.enqueue("echo", 1, { queue: "http" });
    const server = await serveFetch(handler, { port: 0 });
    try {
      const page = await fetch(`http://127.0.0.1:${server.port}/queues/http`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /data-watch-queue="http"/);
      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${server.port}/events`, {
        signal: abort.signal,
      });
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let received = "";
      const readUntil = async (pattern: RegExp) => {
        while (!pattern.test(received)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended: ${received}`);
          received += decoder.decode(value, { stream: true });
        }
      };
      await within(readUntil(/^: connected\n/), 5_000, "connected");
      await queue.enqueue("echo", 2, { queue: "http", id: "over-http" });
      await within(readUntil(/"jobId":"over-http"/), 5_000, "the event over HTTP");
      abort.abort();
      await reader.cancel().catch(() => {});
    } finally {
      // Resolves only once the server's streams ended (Deno's shutdown waits for them).
      await within(server.close(), 10_000, "the server to close after the client left");
    }
  });
});

describe("dashboard on RedisStorage", () => {
  let redis: RedisServer;
  let storage: RedisStorage;
  before(async () => {
    redis = await startRedis();
    storage = new RedisStorage({ url: redis.url, prefix: `dash${Date.now()}` });
  });
  after(async () => {
    await storage?.close();
    await redis?.stop();
  });

  test("pages, an action and the event stream", async () => {
    const { handler, queue } = make({ storage });
    await queue.enqueueMany("echo", [1, 2], { queue: "rq", delay: 3_600_000 });
    await queue.enqueue("broken", { message: XSS_SCRIPT }, { id: "rf", queue: "rq" });
    await runToEnd(storage, ["rf"]);
    const overview = await get(handler, "/");
    assert.equal(overview.response.status, 200);
    assert.match(
      overview.body.match(/data-queue="rq">.*?<\/tr>/s)![0],
      /data-test="count-delayed">2</,
    );
    assert.match(overview.body, /data-completed="0" data-failed="1"/);
    const list = await get(handler, "/queues/rq?state=failed");
    assert.equal(list.body.match(/data-test="job-row"/g)?.length, 1);
    const job = await get(handler, "/jobs/rf");
    assert.match(job.body, /data-test="job-state">failed</);
    assertNoRawMarkup(job.body);
    const token = await tokenOf(handler, "/jobs/rf");
    assert.equal((await post(handler, "/jobs/rf/retry", token)).status, 303);
    assert.equal((await queue.getJob("rf"))?.state, "waiting");

    const abort = new AbortController();
    const response = await handler(new Request(`${ORIGIN}/events`, { signal: abort.signal }));
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${received}`);
        received += decoder.decode(value, { stream: true });
      }
    };
    await within(readUntil(/^: connected\n/), 5_000, "connected");
    await queue.pause("rq");
    await within(readUntil(/"type":"paused","queue":"rq"/), 5_000, "the paused event");
    abort.abort();
    await within(
      (async () => {
        while (!(await reader.read()).done);
      })(),
      10_000,
      "the stream to end",
    );
  });
});
