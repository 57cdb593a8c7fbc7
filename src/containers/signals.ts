/** Signal names and numbers as docker accepts them ("SIGTERM", "TERM", "15"). */
import { InvalidArgumentError } from '../lib/errors.js';
import { constants } from 'node:os';

export function signalNumber(signal: string): number {
  if (/^\d+$/.test(signal)) {
    const n = Number(signal);
    if (n < 1 || n > 64) throw new InvalidArgumentError(`Invalid signal: ${signal}`);
    return n;
  }
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new InvalidArgumentError(`Invalid signal: ${signal}`);
  return n;
}
