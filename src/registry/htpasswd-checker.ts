/**
 * htpasswd Basic credentials, checked so that no client can stall the server: recent successes
 * from a cache, bcrypt in a worker thread with a bounded queue, and an address that keeps failing
 * refused with 429 TOOMANYREQUESTS (Retry-After) before any hashing.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../lib/clock.js';
import { RegistryError } from './registry-errors.js';
import { QueueFullError, type BcryptWorker } from './bcrypt-worker.js';
import { FailureLimiter } from './failure-limiter.js';
import { VerifiedCredentials } from './verified-credentials.js';

export const HTPASSWD_LIMITS = {
  cacheEntries: 1024,
  cacheTtlMs: 5 * 60_000,
  maxFailuresPerAddress: 10,
  failureWindowMs: 60_000,
  trackedAddresses: 10_000,
};

export function readHtpasswd(file: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const hash = line.slice(colon + 1).trim();
    if (!/^\$2[aby]\$/.test(hash)) throw new Error(`htpasswd entry for ${line.slice(0, colon)} is not bcrypt (use htpasswd -B)`);
    users.set(line.slice(0, colon), hash);
  }
  return users;
}

export class HtpasswdChecker {
  private readonly verified: VerifiedCredentials;
  private readonly failures: FailureLimiter;

  constructor(
    private readonly users: Map<string, string>,
    private readonly bcrypt: BcryptWorker,
    clock: Clock,
    limits = HTPASSWD_LIMITS,
  ) {
    this.verified = new VerifiedCredentials(limits.cacheEntries, limits.cacheTtlMs, clock);
    this.failures = new FailureLimiter({ maxFailures: limits.maxFailuresPerAddress, windowMs: limits.failureWindowMs, maxKeys: limits.trackedAddresses }, clock);
  }

  /** True when the credentials match; TOOMANYREQUESTS when `address` failed too often or the queue is full. */
  async check(user: string, password: string, address: string): Promise<boolean> {
    if (this.verified.has(user, password)) return true;
    const wait = this.failures.retryAfter(address);
    if (wait) throw new RegistryError('TOOMANYREQUESTS', 'too many failed login attempts; try again later', undefined, { 'Retry-After': String(wait) });
    const hash = this.users.get(user);
    let match = false;
    if (hash) {
      try {
        match = await this.bcrypt.compare(password, hash);
      } catch (err) {
        if (err instanceof QueueFullError) throw new RegistryError('TOOMANYREQUESTS', 'too many logins in progress; try again later', undefined, { 'Retry-After': '1' });
        throw err;
      }
    }
    if (match) this.verified.add(user, password);
    else this.failures.recordFailure(address);
    return match;
  }

  close(): Promise<void> {
    return this.bcrypt.close();
  }
}
