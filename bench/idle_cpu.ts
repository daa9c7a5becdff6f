// How much CPU an idle worker burns: one taskmill Worker on Redis with no
// jobs, for 10 s of real time. An idle worker blocks on Redis (BLPOP with a
// bounded timeout) rather than polling, so this should be near zero.
// Run: deno run -A bench/idle_cpu.ts [seconds]
import process from "node:process";
import { defineTask, Worker } from "../mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { startRedis } from "./_redis.ts";
import { sleep } from "./_util.ts";

const seconds = Number(process.argv[2] ?? 10);
const server = await startRedis();
const storage = new RedisStorage({ url: server.url, prefix: "idle" });
const worker = new Worker({ storage, tasks: [defineTask({ name: "noop", handler: () => {} })] });
await worker.start();
await sleep(500); // connected and blocking
const before = process.cpuUsage();
await sleep(seconds * 1000);
const used = process.cpuUsage(before);
await worker.stop();
await storage.close();
await server.stop();
const ms = (used.user + used.system) / 1000;
console.log(
  `idle worker: ${ms.toFixed(1)} ms of CPU in ${seconds} s (${
    (ms / seconds / 10).toFixed(3)
  }% of one core)`,
);
