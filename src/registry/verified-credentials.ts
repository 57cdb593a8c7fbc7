/**
 * Credentials bcrypt accepted recently, by SHA-256 of user and password (never the password):
 * a client sends Basic credentials on every request, and bcrypt costs milliseconds to seconds.
 * Bounded, least recently used first out, and each entry lives only `ttlMs`.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../lib/clock.js';

export class VerifiedCredentials {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  private key(user: string, password: string): string {
    return createHash('sha256').update(user).update('\0').update(password).digest('hex');
  }

  has(user: string, password: string): boolean {
    const key = this.key(user, password);
    const expiresAt = this.entries.get(key);
    if (expiresAt === undefined) return false;
    this.entries.delete(key);
    if (expiresAt <= this.clock.nowMs()) return false;
    this.entries.set(key, expiresAt);
    return true;
  }

  add(user: string, password: string): void {
    const key = this.key(user, password);
    this.entries.delete(key);
    this.entries.set(key, this.clock.nowMs() + this.ttlMs);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
