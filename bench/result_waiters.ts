// What 1 000 concurrent `queue.result()` waiters cost on Redis while they
// wait: Redis commands per second and connections, with events on (the
// waiters share one reader blocked on the stream) and, for comparison, with
// events off (each waiter polls getJob every 50 ms, as result() did before
// events). Then a worker completes the jobs and every waiter must resolve.
// Run: deno run -A bench/result_waiters.ts [waiters] [idle seconds]
import process from "node:process";
import { Redis } from "ioredis";
import { defineTask, Queue, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { startRedis } from "./_redis.ts";
import { fmt, sleep } from "./_util.ts";

const waiters = Number(process.argv[2] ?? 1_000);
const idleSeconds = Number(process.argv[3] ?? 10);
const server = await startRedis();
const admin = new Redis(server.url);
const task = defineTask({ name: "echo", handler: (n: number) => n });

async function commandsTotal(): Promise<number> {
  const text = await admin.info("commandstats");
  let total = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] !== "info") total += Number(m[2]);
  }
  return total;
}

async function clients(): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec(await admin.info("clients"))?.[1] ?? 0);
}

for (const events of [true, false]) {
  await admin.flushall();
  const prefix = `waiters${events ? "" : "-poll"}`;
  const storage = new RedisStorage({
    url: server.url,
    prefix,
    eventBacklog: events ? undefined : 0,
  });
  const queue = new Queue({ storage });
  const jobs = await queue.enqueueMany(task, Array.from({ length: waiters }, (_, i) => i));
  const baseClients = await clients();
  const results = Promise.all(jobs.map((job) => queue.result<number>(job.id)));
  await sleep(1_000); // every waiter is waiting
  const before = await commandsTotal();
  await sleep(idleSeconds * 1_000);
  const perSecond = (await commandsTotal() - before) / idleSeconds;
  const connections = await clients() - baseClients;
  const worker = new Worker({ storage, tasks: [task], concurrency: 50 });
  const start = performance.now();
  await worker.start();
  const values = await results;
  const ms = performance.now() - start;
  if (values.some((v, i) => v !== i)) throw new Error("a waiter got another job's result");
  await worker.stop();
  await storage.close();
  console.log(
    `${fmt(waiters)} result() waiters, events ${events ? "on" : "off (polling every 50 ms)"}: ` +
      `${
        perSecond < 100 ? perSecond.toFixed(1) : fmt(Math.round(perSecond))
      } Redis commands/s while idle, ${connections} extra connection(s); ` +
      `all resolved ${fmt(Math.round(ms))} ms after a worker started`,
  );
}
await admin.quit();
await server.stop();
