/**
 * Detach keys (Docker's default ctrl-p,ctrl-q): a byte sequence in an attached client's stdin that
 * ends the attachment while the container keeps running. Bytes that could start the sequence are
 * held back until it is clear whether they do; if not, they go through unchanged.
 */
import { InvalidArgumentError } from '../lib/errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_SPECIALS: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** Parses "ctrl-p,ctrl-q" or "a,ctrl-b" into bytes, with Docker's error for anything else. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const lower = key.toLowerCase();
    if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
    } else if (lower.startsWith('ctrl-') && key.length === 6) {
      const c = lower[5]!;
      if (c >= 'a' && c <= 'z') bytes.push(c.charCodeAt(0) - 96);
      else if (c in CTRL_SPECIALS) bytes.push(CTRL_SPECIALS[c]!);
      else throw new InvalidArgumentError(`Invalid escape keys (${spec}) provided`);
    } else {
      throw new InvalidArgumentError(`Invalid escape keys (${spec}) provided`);
    }
  }
  return Buffer.from(bytes);
}

export class DetachKeyScanner {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** The bytes to pass on, and whether the sequence was completed (what follows it is dropped). */
  scan(chunk: Buffer): { forward: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      // The partial match was ordinary input after all: release it, then look at this byte afresh.
      if (this.matched > 0) {
        for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
        this.matched = 0;
        if (byte === this.keys[0]) {
          this.matched = 1;
          if (this.keys.length === 1) return { forward: Buffer.from(out), detached: true };
          continue;
        }
      }
      out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}
