/**
 * Purges blob uploads that were started long ago and never finished, as distribution's
 * `maintenance.uploadpurging` does (default: older than 168h, checked at start and every 24h).
 * A client that vanished mid-push, or a server killed mid-upload, would otherwise leave its
 * partial data in `uploads/` for good.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface PurgeOptions {
  /** Uploads started more than this long ago go. */
  maxAgeMs: number;
  nowMs: number;
}

/** Removes stale upload sessions under `<root>/uploads`; returns the names removed. */
export async function purgeStaleUploads(root: string, options: PurgeOptions): Promise<string[]> {
  const uploads = join(root, 'uploads');
  const removed: string[] = [];
  for (const name of await readdir(uploads)) {
    const started = await startedAtMs(join(uploads, name));
    if (started !== undefined && options.nowMs - started <= options.maxAgeMs) continue;
    await rm(join(uploads, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** When the session began: its info.json, else (damaged) the entry's own mtime; undefined if gone. */
async function startedAtMs(dir: string): Promise<number | undefined> {
  try {
    const info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as { startedAt?: unknown };
    const started = typeof info.startedAt === 'string' ? Date.parse(info.startedAt) : NaN;
    if (Number.isFinite(started)) return started;
  } catch {
    // Not a session directory, or its info is damaged: judged by its age on disk.
  }
  try {
    return (await stat(dir)).mtimeMs;
  } catch {
    return undefined;
  }
}
