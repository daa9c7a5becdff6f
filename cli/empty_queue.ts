/**
 * What `stats` and `failed list` say of a queue they were asked for by name
 * that has no job in any state: often a misspelt name.
 *
 * @example
 * ```ts
 * import { emptyQueueNote, hasNoJobs } from "./empty_queue.ts";
 *
 * if (hasNoJobs({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 })) {
 *   console.log(emptyQueueNote("defualt", false));
 * }
 * ```
 *
 * @module
 */

import { JOB_STATES } from "../core/task.ts";

/**
 * The note on a queue with no jobs in any state.
 *
 * @example
 * ```ts
 * emptyQueueNote("x", true); // 'queue "x": no jobs in any state (paused); check the name ...'
 * ```
 */
export function emptyQueueNote(name: string, paused: boolean): string {
  return `queue "${name}": no jobs in any state${paused ? " (paused)" : ""}; check the name ` +
    "(taskmill stats without --queue lists every queue)";
}

/**
 * Whether counts show no job in any state.
 *
 * @example
 * ```ts
 * hasNoJobs({ waiting: 0, delayed: 0, active: 0, completed: 1, failed: 0 }); // false
 * ```
 */
export function hasNoJobs(counts: Readonly<Record<string, number | boolean>>): boolean {
  return JOB_STATES.every((s) => counts[s] === 0);
}
