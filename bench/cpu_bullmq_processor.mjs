// BullMQ's sandboxed processor for the cpu benchmark: the same hashing as
// bench/cpu_tasks.ts, in the file BullMQ runs in its worker threads.
import { createHash } from "node:crypto";

export default function (job) {
  let digest = "seed";
  for (let i = 0; i < job.data.rounds; i++) {
    digest = createHash("sha256").update(digest).digest("hex");
  }
  return digest.slice(0, 8);
}
