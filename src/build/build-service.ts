/**
 * POST /build and the build cache: unpacks the context tar (plain or compressed) into a private
 * directory with the same path-safety as docker cp, runs the builder, and removes the directory
 * whatever happens. Builds run one at a time in this version; the cache is shared.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../content/digest.js';
import { Mutex } from '../lib/keyed-mutex.js';
import { InvalidArgumentError } from '../lib/errors.js';
import { RootedFilesystem } from '../archive/rooted-path.js';
import { BuildCache } from './build-cache.js';
import { DEFAULT_BUILD_LIMITS, type BuildLimits } from './build-limits.js';
import { unpackBuildContext } from './build-context.js';
import { parseDockerfile } from './dockerfile-parser.js';
import { ImageBuilder, type BuildOptions, type BuildOutput, type BuilderEngine } from './image-builder.js';

export interface BuildCacheUsage {
  ID: string;
  Parent: string;
  Parents: string[];
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

export interface PreparedBuild {
  /** Runs the build (one at a time) and removes the context after. */
  run(out: BuildOutput): Promise<Digest>;
  /** Removes the context of a build that will not run. */
  dispose(): Promise<void>;
}

export interface BuildImages {
  isIntermediate(id: Digest): boolean;
  topLayerSize(id: Digest): number;
  removeUnusedImages(ids: readonly Digest[]): Promise<{ deleted: Digest[]; reclaimed: number }>;
}

export class BuildService {
  private readonly builds = new Mutex();
  private readonly builder: ImageBuilder;

  private readonly limits: BuildLimits;

  constructor(private readonly deps: { engine: BuilderEngine; images: BuildImages; cache: BuildCache; tempRoot: string; limits?: BuildLimits }) {
    this.limits = deps.limits ?? DEFAULT_BUILD_LIMITS;
    this.builder = new ImageBuilder(deps.engine, deps.cache, deps.tempRoot, this.limits);
  }

  static async open(stateFile: string, now: () => string): Promise<BuildCache> {
    await mkdir(dirname(stateFile), { recursive: true });
    const cache = new BuildCache(stateFile, now);
    await cache.load();
    return cache;
  }

  /**
   * Unpacks the context and parses its Dockerfile, so that a missing or malformed Dockerfile is
   * an HTTP error (as moby answers) before the build's output stream starts.
   */
  async prepare(context: Readable, options: Omit<BuildOptions, 'contextDir'>): Promise<PreparedBuild> {
    await mkdir(this.deps.tempRoot, { recursive: true });
    const dir = await mkdtemp(join(this.deps.tempRoot, 'build-'));
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      const contextDir = join(dir, 'context');
      await mkdir(contextDir);
      await unpackBuildContext(context, contextDir, this.limits.maxUnpackedBytes);
      const dockerfilePath = posix.join('/', options.dockerfile || 'Dockerfile');
      const resolved = await new RootedFilesystem(contextDir).resolve(dockerfilePath, { followLast: true }).catch(() => undefined);
      if (!resolved?.stats?.isFile()) throw new InvalidArgumentError(`Cannot locate specified Dockerfile: ${options.dockerfile || 'Dockerfile'}`);
      const dockerfile = parseDockerfile(await readFile(resolved.hostPath, 'utf8'));
      return {
        run: async (out) => {
          try {
            return await this.builds.run(() => this.builder.build({ ...options, contextDir }, out, dockerfile));
          } finally {
            await dispose();
          }
        },
        dispose,
      };
    } catch (err) {
      await dispose();
      throw err;
    }
  }

  /** The build cache for /system/df: every cached step image that is not also an image users see. */
  diskUsage(): BuildCacheUsage[] {
    return this.deps.cache
      .all()
      .filter((e) => this.deps.images.isIntermediate(e.image))
      .map((e) => ({
        ID: e.key.slice(0, 25),
        Parent: e.parent === 'scratch' ? '' : e.parent,
        Parents: e.parent === 'scratch' ? [] : [e.parent],
        Type: 'regular',
        Description: e.createdBy,
        InUse: false,
        Shared: false,
        Size: this.deps.images.topLayerSize(e.image),
        CreatedAt: e.createdAt,
        LastUsedAt: e.lastUsedAt,
        UsageCount: e.usageCount,
      }));
  }

  /** POST /build/prune: drops the cache and deletes its images nothing else needs. */
  async prune(options: { all: boolean }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    return this.builds.run(async () => {
      const entries = this.deps.cache.all();
      // Intermediates (children first, so parents become removable) and, with all, final untagged results too.
      const ids = [...new Set(entries.map((e) => e.image))].reverse();
      const { deleted, reclaimed } = await this.deps.images.removeUnusedImages(ids);
      const gone = new Set<string>(deleted);
      const removedKeys = entries.filter((e) => gone.has(e.image)).map((e) => e.key.slice(0, 25));
      this.deps.cache.forget(options.all ? new Set(entries.map((e) => e.image)) : gone);
      await this.deps.cache.save();
      return { CachesDeleted: removedKeys, SpaceReclaimed: reclaimed };
    });
  }
}
