/// <reference lib="dom" />
// The dashboard in real Chromium (playwright-core, the machine's browser: see
// tests/_browser.ts), served over HTTP by serveFetch against a real
// redis-server, with a real Worker running the jobs. Real time, bounded:
// every wait for the page has a deadline. Screenshots of each page go to
// .tmp/screenshots/ (git-ignored).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import process from "node:process";
import type { Browser, Page } from "playwright-core";
import { defineTask, Queue, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import {
  dashboard,
  type DashboardOptions,
  type FetchServer,
  serveFetch,
} from "../dashboard/mod.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";
import { launchBrowser, watchedPage } from "./_browser.ts";

const SHOTS = ".tmp/screenshots";
const WAIT = { timeout: 15_000 };
const XSS_SCRIPT = "<script>alert(1)</script>";
const XSS_IMG = "<img src=x onerror=alert(1)>";

/** Job ids whose next attempt of `flaky` succeeds. */
const healed = new Set<string>();
const echo = defineTask({ name: "echo", queue: "emails", handler: (p: unknown) => p });
const flaky = defineTask({
  name: "flaky",
  queue: "emails",
  maxAttempts: 1,
  handler: (p: { message: string }, ctx) => {
    if (!healed.has(ctx.job.id)) throw new Error(p.message);
    return { healed: true };
  },
});
const other = defineTask({ name: "other", queue: "reports", handler: () => "done" });

let redis: RedisServer;
let browser: Browser;
let prefixes = 0;

before(async () => {
  redis = await startRedis();
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await redis?.stop();
});

/** A fresh prefix, its storage, a queue, and the dashboard served on a free port. */
async function open(options: Partial<DashboardOptions> = {}) {
  const storage = new RedisStorage({ url: redis.url, prefix: `dash${process.pid}x${++prefixes}` });
  const queue = new Queue({ storage });
  const server: FetchServer = await serveFetch(dashboard({ storage, ...options }), { port: 0 });
  const root = `http://127.0.0.1:${server.port}${options.basePath ?? ""}`;
  const workers: Worker[] = [];
  return {
    storage,
    queue,
    root,
    startWorker: async () => {
      const worker = new Worker({ storage, tasks: [echo, flaky, other], concurrency: 5 });
      await worker.start();
      workers.push(worker);
      return worker;
    },
    close: async () => {
      for (const worker of workers) await worker.stop({ timeout: 1_000 });
      await server.close();
      await storage.close();
    },
  };
}

/** Loads `url`; asserts a 200 and, at the end of the test, no console error or dialog. */
async function load(page: Page, url: string, status = 200): Promise<void> {
  const response = await page.goto(url);
  assert.equal(response?.status(), status, `GET ${url}`);
}

function textOf(page: Page, selector: string): Promise<string> {
  return page.locator(selector).first().innerText().then((t) => t.trim());
}

async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  await page.waitForFunction(
    ([s, e]) => document.querySelector(s)?.textContent?.trim() === e,
    [selector, expected] as const,
    WAIT,
  );
}

describe("dashboard in Chromium", () => {
  test("every page loads with no console error, and is saved as a screenshot", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser);
    try {
      const done = await dash.queue.enqueue(echo, { hello: "world" });
      const broken = await dash.queue.enqueue(flaky, { message: "kaput" });
      const worker = await dash.startWorker();
      await dash.queue.result(done.id, { timeout: 10_000 });
      await assert.rejects(dash.queue.result(broken.id, { timeout: 10_000 }), /kaput/);
      await dash.queue.enqueue(echo, { later: true }, { delay: 3_600_000 });
      const pages: [string, string][] = [
        ["overview", "/"],
        ["queue", "/queues/emails"],
        ["queue-failed", "/queues/emails?state=failed"],
        ["job", `/jobs/${encodeURIComponent(broken.id)}`],
        ["workers", "/workers"],
      ];
      for (const [name, path] of pages) {
        await load(page, dash.root + path);
        await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
      }
      await load(page, dash.root + "/");
      assert.match(await textOf(page, "[data-queue=emails] [data-test=count-completed]"), /^1$/);
      assert.match(await textOf(page, "[data-queue=emails] [data-test=count-failed]"), /^1$/);
      assert.match(await textOf(page, "[data-test=worker-count]"), /^1$/);
      await load(page, dash.root + "/workers");
      assert.equal(await textOf(page, "[data-test=worker-id]"), worker.id);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("retry on a failed job: it goes back to waiting and a running worker completes it, on screen", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser);
    try {
      await dash.startWorker();
      const job = await dash.queue.enqueue(flaky, { message: "first try fails" });
      await assert.rejects(dash.queue.result(job.id, { timeout: 10_000 }), /first try fails/);
      await load(page, `${dash.root}/jobs/${encodeURIComponent(job.id)}`);
      assert.equal(await textOf(page, "[data-test=job-state]"), "failed");
      assert.match(await textOf(page, "[data-test=error-message]"), /first try fails/);
      healed.add(job.id);
      await page.click("[data-test=retry-button]");
      // The page updates itself from the event stream: no reload here.
      await waitForText(page, "[data-test=job-state]", "completed");
      assert.deepEqual(await dash.queue.result(job.id, { timeout: 1_000 }), { healed: true });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("pausing a queue from its page stops the worker taking its jobs; resuming lets it", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser);
    try {
      await dash.startWorker();
      await dash.queue.enqueue(echo, { warm: true }); // the queue exists and has a page
      await load(page, `${dash.root}/queues/emails`);
      await page.click("[data-test=pause-button]");
      await page.waitForSelector("[data-test=resume-button]", WAIT);
      assert.equal(await dash.queue.isPaused("emails"), true);
      const held = await dash.queue.enqueue(echo, { held: true });
      // The worker serves both queues: once a job of the other one is done,
      // it has reserved since the pause, and passed the paused queue by.
      const probe = await dash.queue.enqueue(other, null);
      await dash.queue.result(probe.id, { timeout: 10_000 });
      assert.equal((await dash.queue.getJob(held.id))?.state, "waiting");
      await page.click("[data-test=resume-button]");
      await page.waitForSelector("[data-test=pause-button]", WAIT);
      assert.deepEqual(await dash.queue.result(held.id, { timeout: 10_000 }), { held: true });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("the overview's counts change live while a worker runs", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser);
    try {
      const first = await dash.queue.enqueue(echo, { n: 0 });
      await load(page, dash.root + "/");
      assert.equal(await textOf(page, "[data-queue=emails] [data-test=count-waiting]"), "1");
      await dash.startWorker();
      await dash.queue.result(first.id, { timeout: 10_000 });
      await waitForText(page, "[data-queue=emails] [data-test=count-completed]", "1");
      const more = await dash.queue.enqueueMany(echo, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      for (const job of more) await dash.queue.result(job.id, { timeout: 10_000 });
      await waitForText(page, "[data-queue=emails] [data-test=count-completed]", "4");
      assert.equal(await textOf(page, "[data-queue=emails] [data-test=count-waiting]"), "0");
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("an XSS payload, job id and error message stay inert text", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser);
    try {
      await dash.startWorker();
      const job = await dash.queue.enqueue(flaky, { message: XSS_IMG, note: XSS_SCRIPT }, {
        id: `${XSS_IMG}${XSS_SCRIPT}`,
      });
      await assert.rejects(dash.queue.result(job.id, { timeout: 10_000 }));
      for (
        const path of [
          `/jobs/${encodeURIComponent(job.id)}`,
          "/queues/emails?state=failed",
          "/",
        ]
      ) {
        await load(page, dash.root + path);
        assert.equal(await page.locator("img[src=x]").count(), 0, `an injected <img> on ${path}`);
        assert.equal(
          await page.evaluate(() =>
            Array.from(document.scripts).filter((s) =>
              s.textContent?.includes("alert(1)") && s.type !== "application/json"
            ).length
          ),
          0,
          `an injected <script> on ${path}`,
        );
      }
      await load(page, `${dash.root}/jobs/${encodeURIComponent(job.id)}`);
      const body = await page.locator("body").innerText();
      assert.ok(body.includes(XSS_IMG), "the error message is shown as text");
      assert.ok(body.includes(XSS_SCRIPT), "the payload is shown as text");
      assert.deepEqual(errors, [], "no dialog, no console error");
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("read-only mode shows no action button and refuses POSTs with 403", async () => {
    const dash = await open({ readOnly: true });
    const { page, errors } = await watchedPage(browser);
    try {
      await dash.startWorker();
      const job = await dash.queue.enqueue(flaky, { message: "stays failed" });
      await assert.rejects(dash.queue.result(job.id, { timeout: 10_000 }));
      for (
        const path of ["/", "/queues/emails?state=failed", `/jobs/${encodeURIComponent(job.id)}`]
      ) {
        await load(page, dash.root + path);
        assert.equal(
          await page.locator("form[method=post] button").count(),
          0,
          `buttons on ${path}`,
        );
      }
      const refused = await page.evaluate(async (url) => {
        const response = await fetch(url, { method: "POST" });
        return response.status;
      }, `${dash.root}/jobs/${encodeURIComponent(job.id)}/retry`);
      assert.equal(refused, 403);
      assert.equal((await dash.queue.getJob(job.id))?.state, "failed");
      assert.deepEqual(errors.filter((e) => !e.includes("403")), []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("remove all failed asks first: dismissed it removes nothing, accepted it removes them", async () => {
    const dash = await open();
    const page = await browser.newPage();
    const asked: string[] = [];
    let answer = false;
    page.on("dialog", (dialog) => {
      asked.push(dialog.message());
      void (answer ? dialog.accept() : dialog.dismiss());
    });
    try {
      await dash.startWorker();
      const jobs = await dash.queue.enqueueMany(flaky, [{ message: "a" }, { message: "b" }]);
      for (const job of jobs) await assert.rejects(dash.queue.result(job.id, { timeout: 10_000 }));
      await load(page, `${dash.root}/queues/emails?state=failed`);
      await page.click("[data-test=remove-all-button]");
      assert.deepEqual(asked, ["Remove all 2 failed jobs of emails?"]);
      assert.equal((await dash.queue.counts("emails")).failed, 2, "dismissed: nothing removed");
      answer = true;
      await page.click("[data-test=remove-all-button]");
      await page.waitForSelector("[data-test=no-jobs]", WAIT);
      assert.equal((await dash.queue.counts("emails")).failed, 0);
      assert.equal(asked.length, 2);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("a 1 MiB payload is shown truncated, with a link to all of it, in a page that stays light", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser);
    try {
      const big = "x".repeat(1024 * 1024 - 20);
      const job = await dash.queue.enqueue(echo, { big }, { delay: 3_600_000 });
      await load(page, `${dash.root}/jobs/${encodeURIComponent(job.id)}`);
      await page.waitForSelector("[data-test=payload-truncated]", WAIT);
      const shown = await page.locator("[data-test=payload]").innerText();
      assert.ok(shown.length < 20_000, `${shown.length} characters rendered`);
      const html = await page.content();
      assert.ok(html.length < 200_000, `the page is ${html.length} characters`);
      const full = await page.getAttribute("[data-test=payload-full]", "href");
      const response = await page.request.get(new URL(full!, page.url()).href);
      assert.deepEqual(await response.json(), { big });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("dark theme: the pages follow prefers-color-scheme", async () => {
    const dash = await open();
    const page = await browser.newPage({ colorScheme: "dark" });
    try {
      await dash.queue.enqueue(echo, { theme: "dark" });
      await load(page, dash.root + "/");
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const light = await browser.newPage({ colorScheme: "light" });
      await load(light, dash.root + "/");
      const lightBackground = await light.evaluate(() =>
        getComputedStyle(document.body).backgroundColor
      );
      await light.close();
      assert.notEqual(background, lightBackground, "dark and light differ");
      await page.screenshot({ path: `${SHOTS}/overview-dark.png`, fullPage: true });
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("authorize refusing answers 401", async () => {
    const dash = await open({ authorize: () => false });
    const { page } = await watchedPage(browser);
    try {
      await load(page, dash.root + "/", 401);
      await load(page, dash.root + "/workers", 401);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("mounted under a basePath: pages, assets and links stay under it", async () => {
    const dash = await open({ basePath: "/admin/jobs" });
    const { page, errors } = await watchedPage(browser);
    const failedRequests: string[] = [];
    page.on("requestfailed", (request) => {
      // Leaving a page cuts its live event stream, and a live refresh still in
      // flight (the page fetches itself once the stream opens): both expected.
      const aborted = request.failure()?.errorText === "net::ERR_ABORTED";
      const live = ["eventsource", "fetch"].includes(request.resourceType());
      if (!(aborted && live && new URL(request.url()).pathname.startsWith("/admin/jobs/"))) {
        failedRequests.push(`${request.failure()?.errorText} ${request.url()}`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
    });
    try {
      await dash.queue.enqueue(echo, { mounted: true });
      await load(page, dash.root + "/");
      const hrefs = await page.evaluate(() =>
        Array.from(document.querySelectorAll("a[href], link[href], script[src], form[action]")).map(
          (e) => e.getAttribute("href") ?? e.getAttribute("src") ?? e.getAttribute("action") ?? "",
        )
      );
      for (const href of hrefs.filter((h) => h.startsWith("/"))) {
        assert.ok(
          href.startsWith("/admin/jobs/") || href === "/admin/jobs",
          `${href} is outside the mount`,
        );
      }
      await page.click("[data-queue=emails] [data-test=queue-link]");
      await page.waitForURL(/\/admin\/jobs\/queues\/emails/, WAIT);
      assert.deepEqual(failedRequests, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });

  test("at a 390 px wide phone screen no page scrolls sideways", async () => {
    const dash = await open();
    const { page, errors } = await watchedPage(browser, { width: 390, height: 844 });
    try {
      await dash.startWorker();
      const job = await dash.queue.enqueue(flaky, { message: "a long error ".repeat(20) });
      await assert.rejects(dash.queue.result(job.id, { timeout: 10_000 }));
      for (
        const [name, path] of [
          ["overview", "/"],
          ["queue", "/queues/emails?state=failed"],
          ["job", `/jobs/${encodeURIComponent(job.id)}`],
          ["workers", "/workers"],
        ]
      ) {
        await load(page, dash.root + path);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 390, `${path} is ${width} px wide at 390`);
        await page.screenshot({ path: `${SHOTS}/phone-${name}.png`, fullPage: true });
      }
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      await dash.close();
    }
  });
});
