/** The `taskmill` usage text and each command's help. @module */

export const COMMANDS_HELP = `Usage:
  taskmill worker --tasks FILE [options]   run a worker over the tasks FILE exports
  taskmill enqueue TASK JSON [options]     enqueue one job of TASK with payload JSON
  taskmill stats [options]                 jobs per queue and state
  taskmill events [options]                tail events live until SIGINT/SIGTERM
  taskmill workers [options]               the live workers
  taskmill failed list [options]           jobs in the dead-letter set
  taskmill failed retry (ID | --all)       move failed jobs back to waiting
  taskmill failed remove (ID | --all)      delete failed jobs
  taskmill schedules [list] [options]      the schedules, with their next run
  taskmill schedules remove ID             delete a schedule (its jobs stay)
  taskmill dashboard [options]             serve the web dashboard until SIGINT/SIGTERM
  taskmill COMMAND --help                  the options of one command
  taskmill --help                          this text`;

export const STORAGE_HELP = `Storage (every command):
  --redis-url URL      Redis to use (or env TASKMILL_REDIS_URL).
  --prefix P           key prefix in Redis (or env TASKMILL_PREFIX). Default "taskmill".
  --sqlite PATH        a SQLite database file instead (or env TASKMILL_SQLITE), created
                       when missing: durable, one machine, any number of processes.
  Every command but worker needs one of them; without, a worker runs on the in-memory store.`;

export const EXIT_HELP =
  `Exit codes: 0 ok, 1 failure (Redis unreachable, tasks module not loaded ...), 2 bad arguments,
3 a worker stopped by --max-failures.`;

/** Each command's options, as the full usage and `taskmill COMMAND --help` show them. */
export const COMMAND_HELP: Record<string, string> = {
  worker: `worker:
  --tasks FILE         module exporting tasks from defineTask() (default export array,
                       or named exports). .ts works on Deno, Bun and Node 22.18+.
  --queues A,B         queues to serve, most important first. Default: the tasks' queues.
  --concurrency N      handlers running at once. Default 10.
  --prefetch N|auto    jobs reserved ahead of free slots. Default auto (about 20 ms of
                       work ahead, judged from recent handler durations).
  --max-tasks N        stop after running N jobs.
  --lease-ms N         lease length in ms (crash recovery delay). Default 30000.
  --stop-timeout MS    on SIGTERM/SIGINT, wait this long for running jobs before handing
                       them back to the queue. Default 30000. A second signal exits at once.
  --log-level L        debug, info, warn or error. Default info.
  --metrics-port N     serve Prometheus metrics (any path, e.g. /metrics) on port N
                       (0: a free one, logged): this worker's counters and histograms,
                       the store's jobs per queue and state, its live workers.
  --metrics-host H     address to bind the metrics port to. Default 127.0.0.1.
  --runner R           where handlers run: inline (default, in the worker), thread (a pool
                       of worker threads) or process (a pool of child processes).
  --pool-size N        threads or processes of the pool. Default: the cores.
  --max-tasks-per-child N   replace a thread or process after N jobs.
  --max-memory-mb N    heap limit of each thread (Node) or process (Node, Deno), MiB.
  --max-failures N     stop after N failed attempts in a row (exit code 3).
  --processes N|auto   run N worker processes (auto: one per core) under a supervisor that
                       restarts one that dies and stops all on SIGTERM. Needs --redis-url
                       or --sqlite.
  --autoscale MIN:MAX  as --processes, between MIN and MAX by backlog and idle time.`,
  enqueue: `enqueue:
  --tasks FILE         the module the worker runs: TASK must be one of its tasks, and its
                       queue, max attempts and timeout apply (the module is imported).
                       Without it, TASK is taken on trust and the job goes to --queue.
  --queue Q            queue (default: the task's with --tasks, else "default")
  --delay MS           run no sooner than MS from now
  --run-at TIME        run no sooner than TIME: ISO 8601 (2026-12-02T10:00:00Z; without
                       Z or an offset it is local time) or epoch ms. Not with --delay.
  --id ID              job id; enqueueing an existing id returns that job
  --priority N         -1000..1000, higher runs first. Default 0.
  --group G            the job's group in its queue (groups take turns; see Flow control)
  --max-attempts N     attempts in all. Default: the task's with --tasks, else 3.
  --timeout MS         per-attempt timeout. Default: the task's with --tasks, else none.
  --json               print the stored job as JSON (default: its id)`,
  stats: `stats:
  --queue Q            queue to count; repeat or comma-separate. Default: every queue
                       of the store, with a total row.
  --json               print JSON instead of a table: {"QUEUE": {"waiting": N, ...,
                       "paused": false}, ...}`,
  events: `events:
  --queue Q            queue whose events to show; repeat or comma-separate. Default:
                       every queue of the store, including ones that appear later.
  --workers            show the workers' events too (online, heartbeat, offline)
  --from ID            start after event ID of each stream (0: every event still kept).
                       Default: only events from now on.
  --json               one JSON object per event and line (the event as stored)`,
  workers: `workers:
  --json               print a JSON array of the live workers instead of a table`,
  schedules: `schedules:
  --json               print a JSON array of the schedules instead of a table (list)`,
  dashboard: `dashboard:
  --port N             port to serve on (0: a free one, logged). Default 8080.
  --host H             address to bind. Default 127.0.0.1 (this machine only: there is no
                       login; put it behind your own auth to share it).
  --base-path P        serve under P, e.g. /admin/jobs (behind a proxy that keeps the path)
  --read-only          no actions (pause, retry, remove ...): pages only`,
  failed: `failed:
  --queue Q            queue of the dead-letter set (list, --all). Default "default".
  --limit N            list at most N jobs. Default 50.
  --all                retry or remove every failed job of --queue
  --json               print JSON (list)`,
};

export const USAGE = `taskmill: a background job queue for Deno, Bun and Node

${COMMANDS_HELP}

${STORAGE_HELP}

${Object.values(COMMAND_HELP).join("\n\n")}

${EXIT_HELP}`;

/** What `taskmill COMMAND --help` prints: that command's usage lines and options. */
export function commandUsage(command: string): string {
  const lines = COMMANDS_HELP.split("\n").filter((l) => l.startsWith(`  taskmill ${command} `));
  return `Usage:\n${lines.join("\n")}\n\n${
    COMMAND_HELP[command]
  }\n\n${STORAGE_HELP}\n\n${EXIT_HELP}`;
}
