/**
 * {@linkcode RedisStorage}: taskmill's storage on Redis (standalone or
 * Cluster) through ioredis, for many workers on many machines.
 *
 * ```ts
 * import { Queue, Worker } from "@taskmill/taskmill";
 * import { RedisStorage } from "@taskmill/taskmill/redis";
 *
 * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379", prefix: "myapp" });
 * const queue = new Queue({ storage });
 * await storage.close();
 * ```
 *
 * ## Key layout
 *
 * Every key starts with a hash tag `{T}`, so each script call touches one
 * slot and works on Redis Cluster. `T` is the prefix (default `taskmill`);
 * with `queueTags: true` it is `prefix:queue`, one tag per queue, so queues
 * spread over the nodes of a cluster. For queue `Q`:
 *
 * | key                       | type   | holds                                                  |
 * | ------------------------- | ------ | ------------------------------------------------------ |
 * | `{T}:seq`                 | string | counter: FIFO order, set-member order, lease tokens    |
 * | `{T}:job:ID`              | hash   | the job's fields (payload, result, error as JSON text) |
 * | `{T}:q:Q:wait`            | zset   | `<seq><id>` by 1000 - priority (ties: by seq, FIFO)    |
 * | `{T}:q:Q:delayed`         | zset   | `<seq><id>` by runAt                                   |
 * | `{T}:q:Q:active`          | zset   | `<seq><id>` by lease expiry (`<seq>` of its token)     |
 * | `{T}:q:Q:completed`       | zset   | `<seq><id>` by finishedAt                              |
 * | `{T}:q:Q:failed`          | zset   | `<seq><id>` by finishedAt (the dead-letter set)        |
 * | `{T}:q:Q:mark`            | list   | wake-up markers idle workers BLPOP (at most 16)        |
 * | `{T}:paused`              | set    | paused queue names                                     |
 * | `{prefix}:ids` (per-queue tags only) | hash | id → queue, to find a job's slot by its id  |
 * | `{T}:sched:ID`            | hash   | a schedule (template and timing JSON, times as text)   |
 * | `{T}:q:Q:sched`           | zset   | the queue's schedule ids by nextRunAt                  |
 * | `{prefix}:schedules`      | hash   | schedule id → queue (lists them; finds their slot)     |
 * | `{T}:q:Q:flow`, `:rate`, `:lanes`, `:gfull`, `:gtimed`, `:groups`, `:gidle`, `:gw:G`, `:g:G`, `:gr:G` | | flow control: limits, rate logs, groups' lanes (see `lua/flow.ts`) |
 *
 * The id index lives in another slot than the jobs, so it is written before
 * them and cleaned after them; entries that a failed or killed call left
 * behind are swept by `prune` (a page per call, after a grace: see
 * `IndexSweep` in retention.ts), so the index does not outgrow the jobs.
 * The schedule index is kept the same way in both modes; with per-queue
 * tags it is another slot than the schedules, and schedules.ts orders the
 * steps so that it stays the truth (what a crash between them can leave:
 * see there). A fire writes the id index after its jobs, for the jobs it
 * stored only.
 *
 * A job hash holds `payload` (JSON text) and `d` (what never changes after
 * enqueue, packed:
 * `priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq`,
 * with the enqueue's seq and runAt), which is all that enqueue writes; then,
 * once set, `state`, `seq` and `runAt` (absent: waiting, or delayed when d's
 * runAt is after enqueuedAt; d's seq; d's runAt), `attempt`, `stalls`,
 * `startedAt`, `finishedAt`, the last lease (`owner`, `token`, `expiresAt`:
 * meaningful only while `state` is `active`), `progress`, `result`, `error`,
 * `errors` and `raw`; a job of a group also has `g`, its group (it then
 * waits in `q:Q:gw:G`, not in `wait`).
 *
 * `<seq>` is the slot's counter at the time the job entered the set, zero
 * padded to 15 digits, so members with equal scores sort in entry order.
 * Priorities are integers in [-1000, 1000] (the core's `Queue` checks this).
 *
 * ## Delivery
 *
 * At-least-once. Each state change is one Lua script (EVALSHA), atomic on the
 * server; a batch is one call. A job runs again only when its lease expired.
 * On failover, writes a master acknowledged but had not yet replicated are
 * lost: a job enqueued just before the failover can vanish, and a completed
 * job can run again. Use `WAIT`/AOF with `appendfsync always` on the server
 * if that matters more than speed.
 *
 * ## Time
 *
 * Scripts never read the server's clock: every time comes from the `now` the
 * core passes (so fake clocks work against a real server). Workers on
 * different machines therefore compare their own clocks through the stored
 * lease expiries: the skew between two workers must stay below `leaseMs -
 * heartbeatMs` (a lease is renewed only every heartbeat), or a worker with a
 * fast clock may reclaim a job whose lease is still live elsewhere. NTP keeps
 * skew in milliseconds; `serverTime()` (TIME) lets workers measure theirs
 * and warn.
 *
 * ## Round trips
 *
 * With the default shared tag every Storage method is one round trip. With
 * `queueTags: true` a call spanning several queues makes one call per queue
 * (in parallel, except reserve, which goes in priority order and stops once
 * `limit` is filled), and calls that start from a bare id (getJob, remove,
 * retryFailed, promote, and settle/extendLeases/setProgress for jobs this instance did
 * not reserve) first look the queue up in the id index. The schedule
 * methods look a schedule's queue up in the schedule index likewise;
 * fireSchedule also reads the id index before its script call and writes
 * it after, and a move to another queue takes a few calls (see
 * schedules.ts).
 *
 * @module
 */

export { RedisStorage } from "./storage.ts";
export type { RedisClientLike, RedisConnectionOptions, RedisStorageOptions } from "./options.ts";
export { redactRedisUrl } from "./redact.ts";
