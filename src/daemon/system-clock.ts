import type { Clock } from '../lib/clock.js';

/** The real clock, the only one outside tests. */
export class SystemClock implements Clock {
  private readonly originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  nowMs(): number {
    return Date.now();
  }

  /** Wall-clock nanoseconds, monotonic within this process (hrtime anchored to Date.now at start). */
  nowNs(): bigint {
    return this.originNs + process.hrtime.bigint();
  }
}
