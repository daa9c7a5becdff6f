import type { RateLimit } from "../../core/storage_limits.ts";

/**
 * The start times a sliding-log rate limit counts (see
 * `core/storage_limits.ts`): those in the window `(now - per, now]`. Kept
 * oldest first; starts that left the window are dropped as they are seen,
 * so it holds at most `max` of them between reserves.
 *
 * @example
 * ```ts
 * import { RateLog } from "./rate_log.ts";
 *
 * const log = new RateLog();
 * const rate = { max: 2, per: 1_000 };
 * log.add(0, 2);
 * console.log(log.free(500, rate), log.freesAt(rate)); // 0 1000
 * console.log(log.free(1_000, rate)); // 2
 * ```
 */
export class RateLog {
  #starts: number[] = [];
  #head = 0;

  /** Starts `rate` still allows at `now` (dropping those out of the window). */
  free(now: number, rate: RateLimit): number {
    const starts = this.#starts;
    const oldest = now - rate.per;
    while (this.#head < starts.length && starts[this.#head] <= oldest) this.#head++;
    if (this.#head === starts.length) {
      this.#starts = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= starts.length) {
      this.#starts = starts.slice(this.#head);
      this.#head = 0;
    }
    return rate.max - (this.#starts.length - this.#head);
  }

  /** Records `count` starts at `now`. */
  add(now: number, count: number): void {
    for (let i = 0; i < count; i++) this.#starts.push(now);
  }

  /**
   * When the oldest start counted leaves the window: a full log frees a
   * place then. Call after {@linkcode RateLog.free} at the same time.
   */
  freesAt(rate: RateLimit): number {
    return this.#starts[this.#head] + rate.per;
  }

  /** Whether no start is kept (call after {@linkcode RateLog.free}). */
  get empty(): boolean {
    return this.#head === this.#starts.length;
  }
}
