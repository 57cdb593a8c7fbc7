/** Version and commit of this build, written to dist/build-info.json by scripts/build.mjs. */
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  version: string;
  gitCommit: string;
  buildTime: string;
}

export function readBuildInfo(): BuildInfo {
  const fallback: BuildInfo = { version: '0.0.0-dev', gitCommit: 'unknown', buildTime: '' };
  for (const candidate of ['./build-info.json', '../../dist/build-info.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as Partial<BuildInfo>;
      return { ...fallback, ...parsed };
    } catch {
      // try the next place: the bundles sit beside dist/build-info.json, sources run by tsx find the other
    }
  }
  return fallback;
}
