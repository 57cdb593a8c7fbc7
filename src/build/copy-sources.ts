/**
 * COPY and ADD sources: paths and wildcards resolved inside the build context (or a stage's
 * filesystem), each with a checksum of names, modes and contents for the build cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { globMatch } from '../lib/glob.js';
import { MissingParentError, NotADirectoryComponentError, type RootedFilesystem } from '../archive/rooted-path.js';
import { InvalidArgumentError } from '../lib/errors.js';

/** A COPY or ADD whose sources are not there: Docker words it without a line number. */
export class CopyFailedError extends InvalidArgumentError {}

export interface CopySource {
  /** The resolved path inside the source filesystem. */
  path: string;
  isDirectory: boolean;
}

const WILDCARD = /[*?[]/;

/** Every path under `dir` (relative, "/"-separated), directories before their contents. */
async function walk(fs: RootedFilesystem, dir: string, out: string[]): Promise<void> {
  const entries = await readdir(fs.hostPathOf(dir)).catch(() => [] as string[]);
  for (const name of entries.sort()) {
    const path = posix.join(dir, name);
    out.push(path);
    const stats = await lstat(fs.hostPathOf(path)).catch(() => undefined);
    if (stats?.isDirectory()) await walk(fs, path, out);
  }
}

export async function resolveSources(fs: RootedFilesystem, patterns: readonly string[], keyword: string): Promise<CopySource[]> {
  const sources: CopySource[] = [];
  let all: string[] | undefined;
  for (const pattern of patterns) {
    const clean = posix.join('/', pattern);
    if (WILDCARD.test(clean)) {
      if (!all) {
        all = [];
        await walk(fs, '/', all);
      }
      const matches = all.filter((path) => globMatch(clean, path));
      if (matches.length === 0) throw new CopyFailedError(`${keyword} failed: no source files were specified`);
      for (const path of matches) {
        const stats = await lstat(fs.hostPathOf(path));
        sources.push({ path, isDirectory: stats.isDirectory() });
      }
      continue;
    }
    const resolved = await fs.resolve(clean, { followLast: true }).catch((err: unknown) => {
      if (err instanceof MissingParentError || err instanceof NotADirectoryComponentError) return undefined;
      throw err;
    });
    if (!resolved?.stats) {
      throw new CopyFailedError(`${keyword} failed: file not found in build context or excluded by .dockerignore: stat ${pattern.replace(/^\/+/, '')}: file does not exist`);
    }
    sources.push({ path: resolved.containerPath, isDirectory: resolved.stats.isDirectory() });
  }
  return sources;
}

/** sha256 over every file's relative name, type, mode and content (or link target) below `path`. */
export async function checksumSource(fs: RootedFilesystem, path: string): Promise<string> {
  const hash = createHash('sha256');
  const paths = [path];
  const stats = await lstat(fs.hostPathOf(path));
  if (stats.isDirectory()) await walk(fs, path, paths);
  for (const item of paths) {
    const host = fs.hostPathOf(item);
    const s = await lstat(host);
    hash.update(`${posix.relative(path, item)}\0${s.mode}\0${s.uid}:${s.gid}\0`);
    if (s.isSymbolicLink()) hash.update(await readlink(host));
    else if (s.isFile()) {
      for await (const chunk of createReadStream(host)) hash.update(chunk as Buffer);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
