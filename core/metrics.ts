/**
 * Worker metrics: counters, and percentiles over a bounded window of recent
 * samples (so memory stays constant however many jobs run).
 *
 * @module
 */

/** A snapshot of a worker's metrics, from `worker.metrics()`. */
export interface WorkerMetrics {
  /** Attempts finished and acknowledged by storage (completed + failed + retried). */
  processed: number;
  /** Jobs completed. */
  succeeded: number;
  /** Jobs failed for good. */
  failed: number;
  /** Attempts failed and scheduled to retry. */
  retried: number;
  /** Jobs held right now (running or waiting for their settle to be acknowledged). */
  inFlight: number;
  /** Handler durations in ms over recent attempts. */
  duration: { p50: number; p95: number; p99: number };
  /** Time from due (`runAt`) to start, in ms, over recent attempts. */
  queueWait: { p50: number; p95: number };
  /** Attempts finished per second over the last minute (or since start, if shorter). */
  throughput: number;
}

const WINDOW = 1024;

/** A fixed-size ring of recent samples with percentile queries. */
export class SampleWindow {
  #samples = new Float64Array(WINDOW);
  #count = 0;

  /** Records one sample, dropping the oldest once full. */
  add(value: number): void {
    this.#samples[this.#count++ % WINDOW] = value;
  }

  /** The p-th percentile (0..100) of recent samples; 0 when there are none. */
  percentile(p: number): number {
    const n = Math.min(this.#count, WINDOW);
    if (n === 0) return 0;
    const sorted = this.#samples.slice(0, n).sort();
    const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    return sorted[rank];
  }
}

/** Counts events per second over a sliding minute, in one-second buckets. */
export class RateMeter {
  #buckets = new Float64Array(60);
  #bucketStart = new Float64Array(60);
  #startedAt: number;

  /** Starts measuring at `now`. */
  constructor(now: number) {
    this.#startedAt = now;
  }

  /** Counts one event at `now`. */
  mark(now: number): void {
    const second = Math.floor(now / 1000);
    const i = second % 60;
    if (this.#bucketStart[i] !== second) {
      this.#bucketStart[i] = second;
      this.#buckets[i] = 0;
    }
    this.#buckets[i]++;
  }

  /** Events per second over the last minute (or since start). */
  rate(now: number): number {
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < 60; i++) {
      if (second - this.#bucketStart[i] < 60) total += this.#buckets[i];
    }
    const span = Math.min(60_000, Math.max(1, now - this.#startedAt)) / 1000;
    return total / span;
  }
}
