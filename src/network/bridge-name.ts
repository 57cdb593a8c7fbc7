/**
 * The device name a client may give a bridge (`com.docker.network.bridge.name`): what the kernel
 * accepts as an interface name (at most 15 bytes, no '/', ':' or whitespace, not '.' or '..'),
 * narrowed to the characters a path under /sys/class/net and an `ip -batch` line take as they are.
 */
import { InvalidArgumentError } from '../lib/errors.js';

const MAX_LENGTH = 15; // IFNAMSIZ less the terminating NUL

export function checkBridgeName(name: string): void {
  const problem =
    name.length === 0 ? 'it is empty'
    : Buffer.byteLength(name) > MAX_LENGTH ? `it is longer than ${MAX_LENGTH} characters`
    : !/^[a-zA-Z0-9_.-]+$/.test(name) ? "only letters, digits, '_', '.' and '-' are allowed"
    : name.includes('..') || name === '.' ? "'.' and '..' are not device names"
    : undefined;
  if (problem) throw new InvalidArgumentError(`invalid bridge name "${name}": ${problem}`);
}
