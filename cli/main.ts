/**
 * The `taskmill` command line: run a worker over a module of tasks, enqueue
 * jobs, read queue counts, tail events, list live workers, manage the
 * dead-letter set and serve the web dashboard. Each command lives in
 * `cli/commands/`; this module parses the arguments, prints help and turns
 * errors into exit codes.
 *
 * ```sh
 * deno run -A jsr:@taskmill/taskmill/cli worker --tasks ./tasks.ts --redis-url redis://127.0.0.1:6379
 * npx taskmill enqueue send_email '{"to":"a@b.c"}' --delay 5000
 * bunx --bun taskmill stats --queue default --json
 * npx taskmill events --workers
 * ```
 *
 * Run `taskmill --help` for every command and option. Exit codes: 0 done (a
 * worker stopped cleanly), 1 failed (Redis unreachable, a tasks module that
 * does not load, a job that is not there), 2 bad arguments.
 *
 * The tasks module exports tasks made with `defineTask()`: as a default
 * export (an array of tasks, or one task) or as named exports. Deno and Bun
 * import a `.ts` module natively, and so does Node from 22.18 (erasable
 * TypeScript only); on Node 20 pass a `.js` or `.mjs` module.
 *
 * @example Run the CLI from code (as the `taskmill` binary does)
 * ```ts
 * import { main } from "@taskmill/taskmill/cli";
 *
 * const code = await main(["--help"]);
 * console.log(code); // 0
 * ```
 *
 * @module
 */

import * as rt from "./_runtime.ts";
import { COMMAND_HELP, commandUsage, USAGE } from "./help.ts";
import { CliError, UsageError } from "./errors.ts";
import { closest, COMMAND_FLAGS, parseFlags } from "./flags.ts";
import { escapeText, firstLine, redact } from "./output.ts";
import { worker } from "./commands/worker.ts";
import { enqueue } from "./commands/enqueue.ts";
import { stats } from "./commands/stats.ts";
import { failed } from "./commands/failed.ts";
import { schedules } from "./commands/schedules.ts";
import { events } from "./commands/events.ts";
import { workers } from "./commands/workers.ts";
import { dashboardCommand } from "./commands/dashboard.ts";

/**
 * Runs the `taskmill` command line with `argv` (the arguments after the
 * program name) and resolves to the exit code: 0 done, 1 failed, 2 bad
 * arguments. Messages go to standard output and error; a `worker` resolves
 * once it has stopped (SIGTERM, SIGINT or `--max-tasks`).
 *
 * @example
 * ```ts
 * import { main } from "@taskmill/taskmill/cli";
 *
 * console.log(await main(["stats"])); // 2: stats needs --redis-url
 * ```
 *
 * @param argv The command line arguments, without the runtime and script.
 * @returns The process exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const known = command !== undefined && Object.hasOwn(COMMAND_FLAGS, command);
  try {
    if (command === undefined) throw new UsageError("no command given");
    if (command === "--help" || command === "-h") {
      rt.out(USAGE);
      return 0;
    }
    if (command === "help") {
      const [topic, ...extra] = rest;
      if (topic === undefined) rt.out(USAGE);
      else if (Object.hasOwn(COMMAND_HELP, topic) && extra.length === 0) {
        rt.out(commandUsage(topic));
      } else throw new UsageError(`help: no command "${rest.join(" ")}"`);
      return 0;
    }
    if (!known) {
      const guess = closest(command, Object.keys(COMMAND_FLAGS));
      throw new UsageError(
        command.startsWith("-")
          ? `${command} is not a command; options come after the command`
          : `unknown command "${command}"${guess === undefined ? "" : ` (did you mean ${guess}?)`}`,
      );
    }
    const spec = COMMAND_FLAGS[command];
    const end = rest.indexOf("--");
    const options = end === -1 ? rest : rest.slice(0, end);
    if (options.includes("--help") || options.includes("-h")) {
      rt.out(commandUsage(command));
      return 0;
    }
    const { flags, positional } = parseFlags(rest, spec, command);
    const noOperands = () => {
      if (positional.length > 0) throw new UsageError(`${command}: unexpected ${positional[0]}`);
    };
    switch (command) {
      case "enqueue":
        return await enqueue(flags, positional);
      case "failed":
        return await failed(flags, positional);
      case "schedules":
        return await schedules(flags, positional);
    }
    noOperands();
    switch (command) {
      case "worker":
        return await worker(flags);
      case "stats":
        return await stats(flags);
      case "events":
        return await events(flags);
      case "dashboard":
        return await dashboardCommand(flags);
      default:
        return await workers(flags);
    }
  } catch (error) {
    const flag = argv.find((a) => a.startsWith("--redis-url="))?.slice(12) ??
      argv[argv.indexOf("--redis-url") + 1];
    const url = argv.includes("--redis-url") || flag ? flag : rt.env("TASKMILL_REDIS_URL");
    if (error instanceof UsageError) {
      // One line, and where to read more: the full usage would bury the message.
      const help = known ? `taskmill ${command} --help` : "taskmill --help";
      rt.err(`taskmill: ${escapeText(redact(error.message, url))}; see ${help}`);
      return 2;
    }
    if (error instanceof CliError) {
      rt.err(`taskmill: ${escapeText(redact(error.message, url))}`);
      return 1;
    }
    rt.err(`taskmill: ${escapeText(redact(firstLine(error), url))}`);
    return 1;
  }
}

if (rt.isMain(import.meta)) {
  main(rt.args()).then((code) => rt.exit(code), (error) => {
    rt.err(`taskmill: ${escapeText(firstLine(error))}`);
    rt.exit(1);
  });
}
