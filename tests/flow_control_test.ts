// Flow control through Queue and Worker on a FakeClock (flow_control_contract.ts),
// on MemoryStorage, and on RedisStorage against a real redis-server and a
// real Redis Cluster (each with and without queueTags) that this file starts.
import { after } from "node:test";
import { Cluster, Redis } from "ioredis";
import { MemoryStorage } from "../adapters/memory/mod.ts";
import { RedisStorage } from "../adapters/redis/mod.ts";
import { flowControlContract } from "./flow_control_contract.ts";
import { dropPrefix, startRedis, startRedisCluster } from "./_redis_server.ts";

flowControlContract(
  "MemoryStorage",
  (clock) =>
    Promise.resolve({ storage: new MemoryStorage({ clock }), cleanup: () => Promise.resolve() }),
);

const server = await startRedis();
const admin = new Redis(server.url);
const cluster = await startRedisCluster();
let prefixes = 0;

after(async () => {
  await admin.quit();
  await server.stop();
  await cluster.stop();
});

for (const queueTags of [false, true]) {
  flowControlContract(`RedisStorage${queueTags ? " (queueTags)" : ""}`, () => {
    const prefix = `fc${process.pid}x${++prefixes}`;
    const storage = new RedisStorage({ url: server.url, prefix, queueTags });
    return Promise.resolve({
      storage,
      cleanup: async () => {
        await storage.close();
        await dropPrefix(admin, prefix);
      },
    });
  });
  flowControlContract(`RedisStorage on Cluster${queueTags ? " (queueTags)" : ""}`, () => {
    const client = new Cluster(cluster.nodes);
    const storage = new RedisStorage({
      client,
      prefix: `fcc${process.pid}x${++prefixes}`,
      queueTags,
    });
    return Promise.resolve({
      storage,
      // The cluster is thrown away after the run; unique prefixes isolate tests.
      cleanup: async () => {
        await storage.close();
        await client.quit();
      },
    });
  });
}
