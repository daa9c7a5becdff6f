// An event consumer process for the multi-process Redis test. Configured by
// env: REDIS_URL, PREFIX, QUEUE, EXPECT. Reads the queue's stream from its
// start ("0") and counts `completed` events by job id until it has seen
// EXPECT distinct jobs, then prints "done distinct=N duplicates=M" and exits.
import process from "node:process";
import { Queue } from "../../mod.ts";
import { RedisStorage } from "../../adapters/redis/mod.ts";

const env = process.env;
const queueName = env.QUEUE ?? "default";
const expect = Number(env.EXPECT);
const storage = new RedisStorage({ url: env.REDIS_URL!, prefix: env.PREFIX ?? "taskmill" });
const queue = new Queue({ storage });
const seen = new Set<string>();
let duplicates = 0;
const stop = new AbortController();
console.log("ready");
for await (
  const event of queue.events({
    queues: [queueName],
    after: { [queueName]: "0" },
    signal: stop.signal,
  })
) {
  if (event.type !== "completed") continue;
  if (seen.has(event.jobId)) duplicates++;
  else seen.add(event.jobId);
  if (seen.size === expect) break;
}
console.log(`done distinct=${seen.size} duplicates=${duplicates}`);
await storage.close();
process.exit(0);
