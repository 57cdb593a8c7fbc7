/**
 * `berth cp`: docker cp's client side. The daemon only stats, packs and extracts; which directory
 * to extract into and what to rename the copied entry to is decided here, as the docker CLI does.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { posix, resolve as resolveLocal } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { defineCommand, type CliContext } from '../../command.js';
import { CliError, DaemonError } from '../../cli-errors.js';
import { decodePathStat, isGoDirectory, isGoSymlink, type PathStat } from '../../../archive/go-file-mode.js';
import { RootedFilesystem } from '../../../archive/rooted-path.js';
import { extractArchive, packPath } from '../../../archive/path-archive.js';
import { humanSize } from '../../../lib/human-units.js';

interface CpTarget {
  container?: string;
  path: string;
}

/** docker's rule: a path starting with "/" or "." is local; otherwise "name:path" names a container. */
function parseTarget(arg: string): CpTarget {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

function endsWithSeparator(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.');
}

/** Renames the first component of an archive path from `from` to `to` ("" drops it: contents only). */
function rebase(from: string, to: string): (path: string) => string {
  return (path) => {
    if (path === from) return to;
    if (path.startsWith(`${from}/`)) return to === '' ? path.slice(from.length + 1) : `${to}${path.slice(from.length)}`;
    return path;
  };
}

/** Counts the bytes passing through, for "Successfully copied". */
async function* counted(source: AsyncIterable<Buffer>, total: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    total.bytes += chunk.length;
    yield chunk;
  }
}

async function statInContainer(ctx: CliContext, container: string, path: string): Promise<PathStat | undefined> {
  try {
    const response = await ctx.client().request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
    response.body.resume();
    const header = response.headers['x-docker-container-path-stat'];
    return typeof header === 'string' ? decodePathStat(header) : undefined;
  } catch (err) {
    if (err instanceof DaemonError && err.status === 404) {
      // HEAD has no body, so a missing container and a missing path look alike: ask which.
      await ctx.client().request('GET', `/containers/${encodeURIComponent(container)}/json`).then((r) => r.body.resume());
      return undefined;
    }
    throw err;
  }
}

async function copyFromContainer(ctx: CliContext, source: CpTarget & { container: string }, destination: string, options: { followLink: boolean; archive: boolean }): Promise<number> {
  let sourcePath = source.path;
  let rebaseName: string | undefined;
  if (options.followLink) {
    const linkStat = await statInContainer(ctx, source.container, sourcePath);
    if (linkStat && isGoSymlink(linkStat.mode)) {
      rebaseName = posix.basename(sourcePath.replace(/\/+$/, ''));
      sourcePath = linkStat.linkTarget;
    }
  }
  const response = await ctx.client().request('GET', `/containers/${encodeURIComponent(source.container)}/archive`, { query: { path: sourcePath } });
  const header = response.headers['x-docker-container-path-stat'];
  const sourceStat = typeof header === 'string' ? decodePathStat(header) : undefined;
  const total = { bytes: 0 };
  if (destination === '-') {
    await pipeline(response.body, ctx.stdout);
    return 0;
  }
  const sourceIsDir = sourceStat ? isGoDirectory(sourceStat.mode) : false;
  const entryName = sourceStat?.name === '/' ? '.' : (sourceStat?.name ?? posix.basename(sourcePath));
  const local = resolveLocal(destination);
  const existing = await stat(local).catch(() => undefined);
  let directory: string;
  let renameTo: string;
  if (existing?.isDirectory()) {
    directory = local;
    renameTo = endsWithSeparator(source.path) && sourceIsDir && source.path.endsWith('/.') ? '' : (rebaseName ?? entryName);
  } else if (existing) {
    if (sourceIsDir) throw new CliError(`cannot copy a directory to a file: ${destination}`, 1);
    directory = posix.dirname(local);
    renameTo = posix.basename(local);
  } else {
    if (endsWithSeparator(destination)) throw new CliError(`destination directory "${destination}" must exist: no such directory`, 1);
    const parent = await stat(posix.dirname(local)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new CliError(`no such directory: ${posix.dirname(local)}`, 1);
    directory = posix.dirname(local);
    renameTo = posix.basename(local);
  }
  const owner = options.archive ? undefined : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  await extractArchive(counted(response.body, total), new RootedFilesystem('/'), directory, {
    noOverwriteDirNonDir: true,
    rename: rebase(entryName === '.' ? '' : entryName, renameTo),
    ...(owner ? { owner } : {}),
  });
  ctx.stderr.write(`Successfully copied ${humanSize(total.bytes)} to ${destination}\n`);
  return 0;
}

async function copyToContainer(ctx: CliContext, source: string, destination: CpTarget & { container: string }, options: { followLink: boolean; archive: boolean }): Promise<number> {
  const container = encodeURIComponent(destination.container);
  let destinationPath = destination.path;
  let destinationStat = await statInContainer(ctx, destination.container, destinationPath);
  if (destinationStat && isGoSymlink(destinationStat.mode)) {
    destinationPath = destinationStat.linkTarget;
    destinationStat = await statInContainer(ctx, destination.container, destinationPath);
  }
  const upload = async (path: string, body: AsyncIterable<Buffer>) => {
    const query: Record<string, string> = { path, noOverwriteDirNonDir: 'true' };
    if (options.archive) query['copyUIDGID'] = 'true';
    const response = await ctx.client().request('PUT', `/containers/${container}/archive`, { query, bodyStream: Readable.from(body) });
    response.body.resume();
  };
  if (source === '-') {
    if (!destinationStat || !isGoDirectory(destinationStat.mode)) throw new CliError(`destination "${destination.container}:${destination.path}" must be a directory`, 1);
    await upload(destinationPath, ctx.stdin as AsyncIterable<Buffer>);
    return 0;
  }
  const local = resolveLocal(source);
  const sourceStats = await (options.followLink ? stat(local) : lstat(local)).catch(() => {
    throw new CliError(`lstat ${local}: no such file or directory`, 1);
  });
  const contentsOnly = source.endsWith('/.') && sourceStats.isDirectory();
  const name = contentsOnly ? '.' : posix.basename(local);
  let directory: string;
  let entryName: string;
  if (destinationStat && isGoDirectory(destinationStat.mode)) {
    directory = destinationPath;
    entryName = name;
  } else if (destinationStat) {
    if (sourceStats.isDirectory()) throw new CliError(`cannot copy a directory to a file: ${destination.container}:${destination.path}`, 1);
    directory = posix.dirname(destinationPath);
    entryName = posix.basename(destinationPath);
  } else {
    if (endsWithSeparator(destination.path)) throw new CliError(`destination directory "${destination.container}:${destination.path}" must exist: no such directory`, 1);
    directory = posix.dirname(posix.join('/', destinationPath));
    entryName = posix.basename(destinationPath);
  }
  const total = { bytes: 0 };
  const packedPath = options.followLink ? await realpath(local) : local;
  // Without -a the files belong to the container's root, as docker documents.
  const packed = packPath(new RootedFilesystem(posix.dirname(packedPath)), `/${posix.basename(packedPath)}`, entryName, options.archive ? {} : { owner: { uid: 0, gid: 0 } });
  await upload(directory, counted(packed, total));
  ctx.stderr.write(`Successfully copied ${humanSize(total.bytes)} to ${destination.container}:${destination.path}\n`);
  return 0;
}

export const cpCommand = defineCommand({
  name: 'cp',
  usage: 'berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'Copy files/folders between a container and the local filesystem',
  flags: {
    archive: { type: 'bool', short: 'a', usage: 'Archive mode (copy all uid/gid information)' },
    'follow-link': { type: 'bool', short: 'L', usage: 'Always follow symbol link in SRC_PATH' },
    quiet: { type: 'bool', short: 'q', usage: 'Suppress progress output during copy' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 2) throw new CliError(`"berth cp" requires exactly 2 arguments.\nSee 'berth cp --help'.`, 1);
    const source = parseTarget(positionals[0]!);
    const destination = parseTarget(positionals[1]!);
    if (source.container && destination.container) throw new CliError('copying between containers is not supported', 1);
    if (!source.container && !destination.container) throw new CliError('must specify at least one container source', 1);
    const options = { followLink: flags['follow-link'] === true, archive: flags.archive === true };
    const quietCtx = flags.quiet ? { ...ctx, stderr: { write: () => true } as unknown as CliContext['stderr'] } : ctx;
    if (source.container) return copyFromContainer(quietCtx, source as CpTarget & { container: string }, destination.path, options);
    return copyToContainer(quietCtx, source.path, destination as CpTarget & { container: string }, options);
  },
});
