// The CPU-bound task of the cpu benchmark (bench/cpu.ts): the worker and the
// pools' threads and processes import it (its `module`).
import { createHash } from "node:crypto";
import { defineTask } from "../mod.ts";

/** Hashes `rounds` times (SHA-256 over the last digest). */
export function burn(rounds: number): string {
  let digest = "seed";
  for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex");
  return digest;
}

export const cpuHash = defineTask({
  name: "bench_cpu_hash",
  queue: "cpu",
  module: import.meta.url,
  handler: (payload: { rounds: number }) => burn(payload.rounds).slice(0, 8),
});
