/** The API versions berthd speaks: the newest is the one docker CLI 28.2 asks for. */
import { InvalidArgumentError } from '../lib/errors.js';

export const MAX_API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

const VERSION_PREFIX = /^\/v(\d+\.\d+)(?=\/|$)/;

/** Compares "1.9" and "1.24" numerically, part by part. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

/** Splits "/v1.44/containers/json" into the version and the unversioned path. */
export function splitVersionPrefix(url: string): { version?: string; path: string } {
  const match = VERSION_PREFIX.exec(url);
  if (!match) return { path: url };
  const rest = url.slice(match[0].length);
  return { version: match[1], path: rest === '' || rest.startsWith('?') ? `/${rest}` : rest };
}

/** Refuses versions outside [MIN, MAX] with moby's exact messages. */
export function checkApiVersion(version: string): void {
  if (compareApiVersions(version, MAX_API_VERSION) > 0) {
    throw new InvalidArgumentError(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
  if (compareApiVersions(version, MIN_API_VERSION) < 0) {
    throw new InvalidArgumentError(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
}
