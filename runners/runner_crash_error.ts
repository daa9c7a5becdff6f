/**
 * A task's thread or process ended while it ran a handler: it exited,
 * threw at its top level, ran out of memory, or was ended after its job
 * was aborted. The attempt fails with it (retried as the task says).
 *
 * @example
 * ```ts
 * import { RunnerCrashError } from "./runner_crash_error.ts";
 *
 * const error = new RunnerCrashError("resize", "thread", "it exited with code 1");
 * console.log(error.message); // Task "resize" crashed in its thread: it exited with code 1
 * ```
 */
export class RunnerCrashError extends Error {
  /** Always `"RunnerCrashError"`. */
  override name = "RunnerCrashError";
  /** The task whose handler was running. */
  readonly task: string;

  /** `cause` says how it ended, as a reader would want to be told. */
  constructor(task: string, where: "thread" | "process", cause: string) {
    super(`Task "${task}" crashed in its ${where}: ${cause}`);
    this.task = task;
  }
}
