/**
 * The Lua scripts of RedisStorage (one file each in `lua/`), hashed once per
 * process for EVALSHA; every instance shares them.
 *
 * @example
 * ```ts ignore
 * await connection.call("count jobs", SCRIPTS.counts, "{taskmill}:seq", ["{taskmill}:", "default"]);
 * ```
 *
 * @module
 */

import { BURY } from "./lua/bury.ts";
import { CLAIM_IDS } from "./lua/claim_ids.ts";
import { COUNTS } from "./lua/counts.ts";
import { ENQUEUE } from "./lua/enqueue.ts";
import { EXIST } from "./lua/exist.ts";
import { EXTEND } from "./lua/extend.ts";
import { FORGET_STALE } from "./lua/forget_stale.ts";
import { GET_LIMITS, GROUPS, SET_GROUP_LIMITS, SET_LIMITS } from "./lua/limits.ts";
import { LIST } from "./lua/list.ts";
import { PAUSE } from "./lua/pause.ts";
import { PROGRESS } from "./lua/progress.ts";
import { PROMOTE } from "./lua/promote.ts";
import { PRUNE } from "./lua/prune.ts";
import { REMOVE } from "./lua/remove.ts";
import { RESERVE } from "./lua/reserve.ts";
import { RESUME } from "./lua/resume.ts";
import { RETRY_FAILED } from "./lua/retry_failed.ts";
import {
  DUE_SCHEDULES,
  FIRE_SCHEDULE,
  GET_SCHEDULES,
  REMOVE_SCHEDULE,
  UPSERT_SCHEDULE,
} from "./lua/schedules.ts";
import { SETTLE } from "./lua/settle.ts";
import { checkIncludes } from "./lua/snippet.ts";
import { LIST_WORKERS, REGISTER_WORKER, UNREGISTER_WORKER } from "./lua/workers.ts";

/**
 * A script's text and its SHA-1 (for EVALSHA).
 *
 * @example
 * ```ts ignore
 * const sha = SCRIPTS.reserve.hash ?? await SCRIPTS.reserve.sha;
 * ```
 */
export interface LoadedScript {
  lua: string;
  sha: Promise<string>;
  /** The SHA-1 once known. */
  hash?: string;
}

function loadScript(name: string, lua: string): LoadedScript {
  checkIncludes(name, lua);
  const script: LoadedScript = { lua, sha: sha1(lua) };
  // A failed digest surfaces where `sha` is awaited (callLater), not here.
  script.sha.then((hash) => script.hash = hash, () => {});
  return script;
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Every script RedisStorage runs by EVALSHA, by use.
 *
 * @example
 * ```ts ignore
 * const { lua } = SCRIPTS.settle;
 * ```
 */
export const SCRIPTS = {
  enqueue: loadScript("ENQUEUE", ENQUEUE),
  reserve: loadScript("RESERVE", RESERVE),
  settle: loadScript("SETTLE", SETTLE),
  extend: loadScript("EXTEND", EXTEND),
  progress: loadScript("PROGRESS", PROGRESS),
  counts: loadScript("COUNTS", COUNTS),
  list: loadScript("LIST", LIST),
  retryFailed: loadScript("RETRY_FAILED", RETRY_FAILED),
  promote: loadScript("PROMOTE", PROMOTE),
  remove: loadScript("REMOVE", REMOVE),
  pause: loadScript("PAUSE", PAUSE),
  resume: loadScript("RESUME", RESUME),
  registerWorker: loadScript("REGISTER_WORKER", REGISTER_WORKER),
  unregisterWorker: loadScript("UNREGISTER_WORKER", UNREGISTER_WORKER),
  listWorkers: loadScript("LIST_WORKERS", LIST_WORKERS),
  prune: loadScript("PRUNE", PRUNE),
  bury: loadScript("BURY", BURY),
  claimIds: loadScript("CLAIM_IDS", CLAIM_IDS),
  exist: loadScript("EXIST", EXIST),
  forgetStale: loadScript("FORGET_STALE", FORGET_STALE),
  upsertSchedule: loadScript("UPSERT_SCHEDULE", UPSERT_SCHEDULE),
  removeSchedule: loadScript("REMOVE_SCHEDULE", REMOVE_SCHEDULE),
  getSchedules: loadScript("GET_SCHEDULES", GET_SCHEDULES),
  dueSchedules: loadScript("DUE_SCHEDULES", DUE_SCHEDULES),
  fireSchedule: loadScript("FIRE_SCHEDULE", FIRE_SCHEDULE),
  setLimits: loadScript("SET_LIMITS", SET_LIMITS),
  getLimits: loadScript("GET_LIMITS", GET_LIMITS),
  setGroupLimits: loadScript("SET_GROUP_LIMITS", SET_GROUP_LIMITS),
  groups: loadScript("GROUPS", GROUPS),
};
