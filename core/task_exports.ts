/**
 * Finding a task among a module's exports: how a runner's thread or
 * process, given the module URL a task was defined in, gets the task back
 * by its name (functions cannot be sent to another thread or process).
 *
 * @module
 */

import type { Task } from "./task.ts";

// deno-lint-ignore no-explicit-any
type AnyTask = Task<any, any>;

/**
 * The task named `name` among `exports` (a module namespace): an export
 * that is the task, or an array or object export that holds it. Throws,
 * naming the module and what it does export, when there is none.
 *
 * @example
 * ```ts
 * import { defineTask } from "./task.ts";
 * import { findTask } from "./task_exports.ts";
 *
 * const hash = defineTask({ name: "hash", handler: (n: number) => n * 2 });
 * console.log(findTask({ hash }, "hash", "file:///tasks.ts") === hash); // true
 * ```
 */
export function findTask(
  exports: Record<string, unknown>,
  name: string,
  module: string,
): AnyTask {
  const found: AnyTask[] = [];
  const visit = (value: unknown) => {
    if (isTask(value)) found.push(value);
  };
  for (const value of Object.values(exports)) {
    visit(value);
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === "object" && !isTask(value)) {
      Object.values(value).forEach(visit);
    }
  }
  const task = found.find((t) => t.name === name);
  if (task !== undefined) return task;
  const names = [...new Set(found.map((t) => t.name))].sort();
  throw new Error(
    `Module ${module} exports no task named "${name}" (it exports ${
      names.length === 0 ? "no task" : names.map((n) => `"${n}"`).join(", ")
    }): export the defineTask result from the module its \`module\` option names`,
  );
}

function isTask(value: unknown): value is AnyTask {
  return value !== null && typeof value === "object" &&
    typeof (value as Task).name === "string" && typeof (value as Task).handler === "function";
}
