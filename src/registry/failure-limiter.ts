/**
 * Counts failed password checks per client address in fixed windows: past `maxFailures` in a
 * window, the address is refused (429) until the window ends, without spending bcrypt on it.
 * Keyed by address, not by user: a per-user lock would let anyone lock a user out.
 */
import type { Clock } from '../lib/clock.js';

export interface FailureLimits {
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at most; the oldest windows are forgotten first. */
  maxKeys: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(
    private readonly limits: FailureLimits,
    private readonly clock: Clock,
  ) {}

  /** Seconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const window = this.current(key);
    if (!window || window.failures < this.limits.maxFailures) return 0;
    return Math.max(1, Math.ceil((window.endsAt - this.clock.nowMs()) / 1000));
  }

  recordFailure(key: string): void {
    let window = this.current(key);
    if (!window) {
      window = { failures: 0, endsAt: this.clock.nowMs() + this.limits.windowMs };
      this.windows.set(key, window);
      if (this.windows.size > this.limits.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    window.failures++;
  }

  private current(key: string): { failures: number; endsAt: number } | undefined {
    const window = this.windows.get(key);
    if (window && window.endsAt <= this.clock.nowMs()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }
}
