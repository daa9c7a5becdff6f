/**
 * Retry strategies: how long to wait before the next attempt of a failed job.
 *
 * @module
 */

import { checkKeys, checkNumber, describe, optionNames } from "./_validate.ts";

/**
 * Returns the delay in ms before the next attempt, given the attempt that
 * just failed (1-based) and what it threw. Any function of this shape works.
 *
 * @example A custom strategy: retry rate-limit errors after a minute, others after 5 s
 * ```ts
 * import type { RetryStrategy } from "@taskmill/taskmill";
 *
 * const strategy: RetryStrategy = (_attempt, error) =>
 *   error instanceof Error && error.message.includes("429") ? 60_000 : 5_000;
 * console.log(strategy(1, new Error("HTTP 429"))); // 60000
 * ```
 */
export type RetryStrategy = (attempt: number, error: unknown) => number;

/**
 * The same delay before every retry.
 *
 * @example
 * ```ts
 * import { fixed } from "@taskmill/taskmill";
 *
 * const everyTenSeconds = fixed(10_000);
 * console.log(everyTenSeconds(1, new Error("x")), everyTenSeconds(7, new Error("x"))); // 10000 10000
 * ```
 */
export function fixed(ms: number): RetryStrategy {
  checkNumber(ms, 0, 2_147_483_647, "fixed(ms): ms");
  return () => ms;
}

/** Options of {@linkcode exponential}. */
export interface ExponentialOptions {
  /** Delay before the first retry, ms. Default 1000. */
  base?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Cap on any delay, ms. Default 3 600 000 (one hour). */
  max?: number;
  /**
   * Spread retries so failed jobs do not return in lockstep: `true` picks
   * uniformly in [delay/2, delay]; a number in [0, 1] is the fraction of the
   * delay that is randomized. Default false.
   */
  jitter?: boolean | number;
  /** Source of randomness in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

const EXPONENTIAL_OPTIONS = optionNames<ExponentialOptions>()([
  "base",
  "factor",
  "max",
  "jitter",
  "random",
]);

/**
 * Delays that grow by `factor` each attempt: `base * factor ** (attempt - 1)`,
 * capped at `max`, optionally jittered.
 *
 * @example 1 s, 2 s, 4 s, 8 s ... capped at a minute
 * ```ts
 * import { exponential } from "@taskmill/taskmill";
 *
 * const backoff = exponential({ base: 1_000, factor: 2, max: 60_000 });
 * console.log([1, 2, 3, 4, 10].map((attempt) => backoff(attempt, null))); // [1000, 2000, 4000, 8000, 60000]
 * ```
 */
export function exponential(options: ExponentialOptions = {}): RetryStrategy {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`exponential(): options must be an object, got ${describe(options)}`);
  }
  checkKeys(options, EXPONENTIAL_OPTIONS, "exponential()");
  const base = options.base ?? 1_000;
  const factor = options.factor ?? 2;
  const max = options.max ?? 3_600_000;
  checkNumber(base, 0, 2_147_483_647, "exponential(): base");
  checkNumber(factor, 1, 1_000, "exponential(): factor");
  checkNumber(max, 0, 2_147_483_647, "exponential(): max");
  const jitter = options.jitter === true
    ? 0.5
    : options.jitter === false || options.jitter === undefined
    ? 0
    : options.jitter;
  checkNumber(jitter, 0, 1, "exponential(): jitter");
  const random = options.random ?? Math.random;
  return (attempt) => {
    const delay = Math.min(max, base * factor ** Math.max(0, attempt - 1));
    if (jitter === 0) return delay;
    return Math.round(delay * (1 - jitter) + delay * jitter * random());
  };
}

/** The strategy used when a task sets none: exponential from 1 s, capped at 1 h. */
export const defaultRetry: RetryStrategy = exponential();
