/**
 * Health checks, as Docker runs them: the image's HEALTHCHECK or the container's, run inside the
 * container (`runc exec`) every Interval (StartInterval during StartPeriod), each within Timeout.
 * Retries failures in a row make it unhealthy (failures inside the start period do not count);
 * one success makes it healthy. The last 5 results are kept. Unhealthy alone restarts nothing.
 */
import type { HealthConfig } from '../oci/index.js';
import { InvalidArgumentError } from '../lib/errors.js';

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthResult[];
}

const SECOND = 1e9;
const DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, startPeriod: 0, startInterval: 5 * SECOND, retries: 3 };

/** The container's health config: its own fields over the image's; undefined when there is none. */
export function effectiveHealthcheck(image: HealthConfig | undefined, container: HealthConfig | undefined): HealthConfig | undefined {
  const merged: HealthConfig = { ...(image ?? {}), ...Object.fromEntries(Object.entries(container ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== 0 && !(Array.isArray(v) && v.length === 0))) };
  const test = merged.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  return merged;
}

/** moby's checks at create: durations 0 (the default) or at least 1 ms, retries not negative. */
export function checkHealthcheck(config: HealthConfig | undefined): void {
  if (!config) return;
  const MINIMUM = 1e6;
  for (const field of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const value = config[field];
    // docker-py sends null for a duration the compose file leaves out: unset, as Go decodes it.
    if (value !== undefined && value !== null && value !== 0 && value < MINIMUM) throw new InvalidArgumentError(`${field} in Healthcheck cannot be less than 1ms`);
  }
  if (config.Retries !== undefined && config.Retries < 0) throw new InvalidArgumentError('Retries in Healthcheck cannot be negative');
}

/** The command to run: CMD args as given, CMD-SHELL through /bin/sh -c. */
export function healthCommand(config: HealthConfig): string[] {
  const [kind, ...rest] = config.Test ?? [];
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  if (kind === 'CMD') return rest;
  return [kind!, ...rest];
}

export interface HealthRunner {
  /** Runs the command in the container; resolves with its exit code and output (cut at 4 KiB). */
  exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Called after each probe with the new state (persist it, publish health_status when it changed). */
  report(state: HealthState, changed: boolean): Promise<void>;
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly startedAt = Date.now();
  state: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };

  constructor(
    private readonly config: HealthConfig,
    private readonly runner: HealthRunner,
    private readonly nowIso: () => string,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private inStartPeriod(): boolean {
    return Date.now() - this.startedAt < (this.config.StartPeriod || DEFAULTS.startPeriod) / 1e6;
  }

  private schedule(): void {
    if (this.stopped) return;
    const starting = this.state.Status === 'starting' && this.inStartPeriod();
    const delayNs = starting && this.config.StartInterval ? this.config.StartInterval : this.config.Interval || DEFAULTS.interval;
    this.timer = setTimeout(() => void this.probe(), delayNs / 1e6);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    const start = this.nowIso();
    const timeoutMs = (this.config.Timeout || DEFAULTS.timeout) / 1e6;
    const result = await this.runner.exec(healthCommand(this.config), timeoutMs).catch((err: Error) => ({ exitCode: -1, output: err.message }));
    if (this.stopped) return;
    const entry: HealthResult = { Start: start, End: this.nowIso(), ExitCode: result.exitCode, Output: result.output.slice(0, 4096) };
    const before = this.state.Status;
    const log = [...this.state.Log, entry].slice(-5);
    if (result.exitCode === 0) {
      this.state = { Status: 'healthy', FailingStreak: 0, Log: log };
    } else if (this.state.Status === 'starting' && this.inStartPeriod()) {
      this.state = { ...this.state, Log: log }; // failures while starting do not count
    } else {
      const streak = this.state.FailingStreak + 1;
      this.state = { Status: streak >= (this.config.Retries || DEFAULTS.retries) ? 'unhealthy' : this.state.Status, FailingStreak: streak, Log: log };
    }
    await this.runner.report(this.state, this.state.Status !== before).catch(() => undefined);
    this.schedule();
  }
}
