// How fast the dashboard's pages answer over a big Redis store: 50 queues
// and 1 000 000 jobs (waiting), then GET /, GET /queues/q1?state=waiting (a
// page of 50) and a deep page of it, 20 times each, with their p50 and p95.
// Figures only, no assertions. Each runs twice: the handler called directly
// (the storage reads and the rendering), then over HTTP through serveFetch.
// Run: deno run -A bench/dashboard.ts [jobs] [queues]   (npm run bench:dashboard)
import process from "node:process";
import { Queue } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { dashboard, serveFetch } from "../dashboard/mod.ts";
import { ENQUEUE_BATCH, startRedis } from "./_redis.ts";
import { fmt, percentile } from "./_util.ts";

const jobs = Number(process.argv[2] ?? 1_000_000);
const queues = Number(process.argv[3] ?? 50);
const ROUNDS = 20;

const server = await startRedis();
const storage = new RedisStorage({ url: server.url, prefix: "dashbench" });
try {
  const queue = new Queue({ storage });
  const started = performance.now();
  const perQueue = Math.ceil(jobs / queues);
  let stored = 0;
  for (let q = 1; q <= queues && stored < jobs; q++) {
    for (let n = 0; n < perQueue && stored < jobs; n += ENQUEUE_BATCH) {
      const size = Math.min(ENQUEUE_BATCH, perQueue - n, jobs - stored);
      const payloads = Array.from(
        { length: size },
        (_, i) => ({ n: n + i, to: `user${n + i}@x.test` }),
      );
      await queue.enqueueMany("send_email", payloads, { queue: `q${q}` });
      stored += size;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `enqueued ${fmt(stored)} jobs in ${queues} queues in ${seconds.toFixed(1)} s (${
      fmt(Math.round(stored / seconds))
    } jobs/s)`,
  );
  const handler = dashboard({ storage });
  // Directly, and over HTTP (serveFetch on this runtime, as `taskmill dashboard` serves it).
  const server = await serveFetch(handler, { port: 0 });
  const paths = ["/", "/queues/q1?state=waiting", "/queues/q1?state=waiting&page=300"];
  const ways: [string, (path: string) => Promise<Response>][] = [
    ["handler", (path) => handler(new Request(`http://localhost${path}`))],
    ["HTTP", (path) => fetch(`http://127.0.0.1:${server.port}${path}`)],
  ];
  for (const [way, get] of ways) {
    for (const path of paths) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now();
        const response = await get(path);
        const body = await response.text();
        times.push(performance.now() - t0);
        if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
        bytes = body.length;
      }
      console.log(
        `${way} GET ${path}: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${
          percentile(times, 95).toFixed(1)
        } ms (${ROUNDS} requests, ${fmt(bytes)} characters of HTML)`,
      );
    }
  }
  await server.close();
} finally {
  await storage.close();
  await server.stop();
}
