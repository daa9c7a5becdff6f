/**
 * Loading the tasks a module exports (`--tasks FILE`), for `worker` and
 * `enqueue --tasks`.
 *
 * @example
 * ```ts
 * import { loadTasks } from "./tasks_module.ts";
 *
 * const tasks = await loadTasks("./tasks.ts");
 * console.log(tasks.map((t) => t.name));
 * ```
 *
 * @module
 */

import * as rt from "./_runtime.ts";
import type { Task } from "../core/task.ts";
import { CliError } from "./errors.ts";
import { firstLine } from "./output.ts";

function isTask(value: unknown): value is Task {
  return typeof value === "object" && value !== null &&
    typeof (value as Task).name === "string" &&
    typeof (value as Task).handler === "function" &&
    typeof (value as Task).queue === "string";
}

/** Finds the tasks a module exports: a default array (or task), or named tasks. */
function tasksOf(mod: Record<string, unknown>): Task[] {
  const found: Task[] = [];
  const add = (value: unknown) => {
    if (isTask(value) && !found.includes(value)) found.push(value);
  };
  const fallback = mod.default;
  if (Array.isArray(fallback)) fallback.forEach(add);
  else add(fallback);
  for (const [name, value] of Object.entries(mod)) {
    if (name === "default") continue;
    if (Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  return found;
}

/**
 * Imports `file` (relative to the working directory) and returns the tasks
 * it exports, or a CliError naming the file and why it did not load.
 *
 * @example
 * ```ts
 * const tasks = await loadTasks("./tasks.ts");
 * ```
 */
export async function loadTasks(file: string): Promise<Task[]> {
  const path = rt.absolutePath(file);
  let mod: Record<string, unknown>;
  try {
    mod = await rt.importModule(path);
  } catch (error) {
    let reason = firstLine(error);
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && reason.includes(path)) reason = "no such file";
    if (code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.[cm]?tsx?$/.test(path)) {
      reason += rt.startedByBunx()
        ? " (bunx ran taskmill on Node, as its bin's #!/usr/bin/env node says: " +
          "run `bunx --bun taskmill ...` to run it on Bun, which imports TypeScript)"
        : " (this Node cannot import TypeScript: use Node 22.18+, Deno or Bun, " +
          "or pass the compiled .js module)";
    }
    throw new CliError(`cannot load tasks module ${path}: ${reason}`);
  }
  const tasks = tasksOf(mod);
  if (tasks.length === 0) {
    throw new CliError(
      `cannot load tasks module ${path}: it exports no tasks (export tasks made with ` +
        "defineTask(), as a default array or as named exports)",
    );
  }
  return tasks;
}
