/**
 * COPY and ADD: sources from the context, a stage or an image (wildcards, heredocs, URLs, local
 * archives for ADD), checksummed for the cache, extracted into a created container's rootfs resolved
 * inside the image (or an empty directory for FROM scratch) with --chown/--chmod, and committed.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import type { Digest } from '../content/digest.js';
import { RootedFilesystem } from '../archive/rooted-path.js';
import { extractArchive, packPath } from '../archive/path-archive.js';
import { DockerfileError } from './dockerfile-error.js';
import { flagValues, type Instruction } from './dockerfile-parser.js';
import { expandVariables, expandWord, expandWords, type Lookup } from './word-expansion.js';
import { checksumSource, CopyFailedError, resolveSources } from './copy-sources.js';
import { cacheKey } from './build-cache.js';
import { extractLocalArchive, isLocalArchive } from './local-archive.js';
import { downloadToFile } from './url-download.js';
import type { BuildLimits } from './build-limits.js';
import type { BuildOptions, BuildOutput, BuilderEngine, StageState } from './image-builder.js';

export interface CopyContext {
  engine: BuilderEngine;
  tempRoot: string;
  limits: BuildLimits;
  lookup: Lookup;
  /** True when the step's image came from the cache (the stage has moved on to it). */
  reuseCached(key: string, createdBy: string): Promise<boolean>;
  recordCache(key: string, parent: Digest | undefined, image: Digest, createdBy: string): void;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export async function copyStep(ctx: CopyContext, stage: StageState, instruction: Instruction, escape: string, stages: StageState[], options: BuildOptions, out: BuildOutput): Promise<void> {
  const keyword = instruction.keyword;
  const flags = flagValues(instruction, keyword === 'ADD' ? ['chown', 'chmod', 'checksum', 'link'] : ['from', 'chown', 'chmod', 'link', 'parents', 'exclude']);
  const lookup = ctx.lookup;
  const words = instruction.json ?? expandWords(instruction.args, lookup, escape);
  if (words.length < 2) throw new DockerfileError(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  const rawDest = words[words.length - 1]!;
  const sourceWords = words.slice(0, -1);
  const destDirSyntax = rawDest.endsWith('/') || rawDest.endsWith('/.');
  const dest = posix.isAbsolute(rawDest) ? posix.normalize(rawDest) : posix.join(stage.config.WorkingDir || '/', rawDest);
  const chmodText = flags.get('chmod');
  if (chmodText !== undefined && !/^[0-7]{3,4}$/.test(chmodText)) throw new DockerfileError(`invalid chmod parameter: ${chmodText}`);
  const mode = chmodText === undefined ? undefined : parseInt(chmodText, 8);
  const chown = flags.get('chown') ? expandWord(flags.get('chown')!, lookup, escape) : undefined;

  // Where the sources come from: the context, another stage, or an image.
  const scratch = await mkdtemp(join(ctx.tempRoot, 'copy-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(scratch, { recursive: true, force: true })];
  try {
    let sourceFs = new RootedFilesystem(options.contextDir);
    const from = flags.get('from');
    if (from) {
      const fromName = expandWord(from, lookup, escape);
      const fromStage = /^\d+$/.test(fromName) ? stages[Number(fromName)] : stages.find((s) => s.name === fromName.toLowerCase());
      const fromImage = fromStage ? fromStage.image : await ctx.engine.resolveImage(fromName, false, options.registryAuth);
      if (!fromImage) throw new DockerfileError(`${keyword} --from=${fromName}: the stage has no filesystem`);
      const holder = await ctx.engine.createContainer({ Image: fromImage, Cmd: ['/bin/sh', '-c', '#(nop) COPY --from'], Entrypoint: [], Labels: {} }, { NetworkMode: 'none' });
      cleanups.push(() => ctx.engine.removeContainer(holder));
      const opened = await ctx.engine.openContainerFilesystem(holder);
      cleanups.push(opened.release);
      sourceFs = opened.fs;
    }
    // Heredoc and URL sources become files in a scratch directory first.
    const patterns: { fs: RootedFilesystem; pattern: string; archive: boolean; name?: string }[] = [];
    const scratchFs = new RootedFilesystem(scratch);
    for (const word of sourceWords) {
      const heredoc = instruction.heredocs.find((h) => word === `<<${h.name}` || word === `<<-${h.name}` || new RegExp(`^<<-?["']${h.name}["']$`).test(word));
      if (heredoc) {
        const content = heredoc.expand ? expandVariables(heredoc.content, lookup, escape) : heredoc.content;
        await writeFile(join(scratch, heredoc.name), content, { mode: 0o644 });
        patterns.push({ fs: scratchFs, pattern: `/${heredoc.name}`, archive: false });
      } else if (/^https?:\/\//.test(word)) {
        if (keyword !== 'ADD') throw new DockerfileError('source can\'t be a URL for COPY');
        const name = posix.basename(new URL(word).pathname) || 'download';
        // Each download in its own directory: two URLs may end in the same name.
        const downloadDir = await mkdtemp(join(scratch, 'url-'));
        await downloadToFile(word, join(downloadDir, name), ctx.limits.url);
        patterns.push({ fs: new RootedFilesystem(downloadDir), pattern: `/${name}`, archive: false });
      } else {
        patterns.push({ fs: sourceFs, pattern: word, archive: keyword === 'ADD' && !from });
      }
    }
    const resolved: { fs: RootedFilesystem; path: string; isDirectory: boolean; archive: boolean }[] = [];
    for (const p of patterns) for (const s of await resolveSources(p.fs, [p.pattern], keyword)) resolved.push({ fs: p.fs, ...s, archive: p.archive });
    if (resolved.length > 1 && !destDirSyntax) throw new DockerfileError(`When using ${keyword} with more than one source file, the destination must be a directory and end with a /`);

    // The cache key: what is copied (checksums), where, and how.
    const sums: string[] = [];
    for (const r of resolved) sums.push(await checksumSource(r.fs, r.path));
    const kind = resolved.length === 1 ? (resolved[0]!.isDirectory ? 'dir' : 'file') : 'multi';
    const digest = createHash('sha256').update(sums.join(',')).digest('hex');
    const createdBy = `/bin/sh -c #(nop) ${keyword} ${[chown ? `--chown=${chown}` : '', chmodText ? `--chmod=${chmodText}` : ''].filter(Boolean).join(' ')}${chown || chmodText ? ' ' : ''}${kind}:${digest} in ${rawDest} `;
    const key = cacheKey(stage.image, createdBy, stage.config);
    if (await ctx.reuseCached(key, createdBy)) return;

    // The target: a created container's rootfs (its links resolved inside it), or for FROM scratch an empty directory.
    let target: RootedFilesystem;
    let containerId: string | undefined;
    if (stage.image && ctx.engine.imageHasLayers(stage.image)) {
      containerId = await ctx.engine.createContainer({ Image: stage.image, Cmd: ['/bin/sh', '-c', createdBy.replace('/bin/sh -c ', '')], Entrypoint: [], Labels: {} }, { NetworkMode: 'none' });
      cleanups.push(() => ctx.engine.removeContainer(containerId!));
      const opened = await ctx.engine.openContainerFilesystem(containerId);
      cleanups.push(opened.release);
      target = opened.fs;
    } else {
      const layerRoot = join(scratch, 'layer');
      await mkdir(layerRoot);
      target = new RootedFilesystem(layerRoot);
    }
    let owner: { uid: number; gid: number } | undefined = { uid: 0, gid: 0 };
    if (chown) owner = await ownerOf(ctx.engine, chown, target);
    const destResolved = await target.resolve(dest, { followLast: true }).catch(() => undefined);
    const destIsDir = destDirSyntax || resolved.length > 1 || destResolved?.stats?.isDirectory() === true;
    for (const source of resolved) {
      if (source.archive && !source.isDirectory && (await isLocalArchive(source.fs.hostPathOf(source.path)))) {
        await extractLocalArchive(source.fs.hostPathOf(source.path), target, dest, { owner, maxUnpackedBytes: ctx.limits.maxUnpackedBytes });
        continue;
      }
      const entryPath = source.isDirectory ? dest : destIsDir ? posix.join(dest, posix.basename(source.path)) : dest;
      const entryName = entryPath === '/' ? '.' : entryPath.slice(1);
      await extractArchive(packPath(source.fs, source.path, entryName), target, '/', { noOverwriteDirNonDir: false, ...(owner ? { owner } : {}), ...(mode !== undefined ? { mode } : {}) });
    }
    let image: Digest;
    if (containerId) image = await ctx.engine.commitContainer(containerId, { config: stage.config, createdBy, ...(stage.author ? { author: stage.author } : {}) });
    else image = await ctx.engine.buildStepImage(stage.image, { config: stage.config, createdBy, layer: Readable.from(packPath(target, '/', '.')), ...(stage.author ? { author: stage.author } : {}) });
    ctx.recordCache(key, stage.image, image, createdBy);
    stage.image = image;
    out.stream(` ---> ${short(image)}\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

async function ownerOf(engine: BuilderEngine, chown: string, target: RootedFilesystem): Promise<{ uid: number; gid: number }> {
  try {
    return await engine.resolveUser(target.root, chown);
  } catch (err) {
    throw new DockerfileError(`unable to convert uid/gid chown string to host mapping: ${(err as Error).message}`);
  }
}
