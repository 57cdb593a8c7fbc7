/**
 * The classic builder: runs a parsed Dockerfile step by step. RUN runs in a container of the
 * current image and commits its diff; COPY and ADD extract into a created (never started)
 * container's rootfs, resolved inside it, and commit; the other instructions change only the
 * config. Every step's image is cached by parent, instruction and copied-file checksums.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../content/digest.js';
import type { ContainerConfig } from '../oci/index.js';
import type { AuthConfig } from '../distribution/index.js';
import { InvalidArgumentError } from '../lib/errors.js';
import type { RootedFilesystem } from '../archive/rooted-path.js';
import { followLog } from '../logs/log-follow.js';
import { DockerfileError } from './dockerfile-error.js';
import { flagValues, parseDockerfile, type Instruction, type ParsedDockerfile } from './dockerfile-parser.js';
import { expandWord, expandWords, keyValuePairs, type Lookup } from './word-expansion.js';
import { healthcheckOf } from './healthcheck-instruction.js';
import { copyStep } from './copy-step.js';
import { DEFAULT_BUILD_LIMITS, type BuildLimits } from './build-limits.js';
import { BuildCache, cacheKey } from './build-cache.js';

export interface BuildOptions {
  contextDir: string;
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  remove: boolean;
  forceRemove: boolean;
  labels: Record<string, string>;
  networkMode?: string;
  shmSize?: number;
  memory?: number;
  cpuQuota?: number;
  extraHosts?: string[];
  /** Images (pulled, loaded or built elsewhere) whose history may stand in for steps (--cache-from). */
  cacheFrom?: string[];
  /** --platform: only this host's platform can be built here. */
  platform?: string;
  /** X-Registry-Config: credentials by registry, for the FROM images this build pulls. */
  registryAuth?: Record<string, AuthConfig>;
}

export interface BuildOutput {
  stream(text: string): void;
  aux(value: unknown): void;
}

/** What the builder needs from the engine's containers and images. */
export interface BuilderEngine {
  resolveImage(name: string, pull: boolean, registryAuth?: Record<string, AuthConfig>): Promise<Digest>;
  /** This host's platform, "linux/amd64": the only one berth builds for. */
  hostPlatform: string;
  /** A local image by name or ID, never pulled. */
  localImage(name: string): Digest | undefined;
  imageConfig(id: Digest): ContainerConfig;
  imageExists(id: Digest): boolean;
  imageHasLayers(id: Digest): boolean;
  restoreCachedStep(parent: Digest | undefined, source: Digest, options: { config: ContainerConfig; createdBy: string }): Promise<Digest | undefined>;
  buildStepImage(parent: Digest | undefined, options: { config: ContainerConfig; createdBy: string; layer?: Readable; author?: string }): Promise<Digest>;
  tag(id: Digest, reference: string): Promise<void>;
  createContainer(config: Record<string, unknown>, hostConfig: Record<string, unknown>): Promise<string>;
  startContainer(id: string): Promise<void>;
  waitContainer(id: string): Promise<number>;
  removeContainer(id: string): Promise<void>;
  containerLogPath(id: string): string;
  openContainerFilesystem(id: string): Promise<{ fs: RootedFilesystem; release: () => Promise<void> }>;
  commitContainer(id: string, options: { config: ContainerConfig; createdBy: string; author?: string }): Promise<Digest>;
  resolveUser(rootfs: string, user: string): Promise<{ uid: number; gid: number }>;
}

/** A RUN that failed: the build's error, with the command's exit code for the CLI's status. */
export class BuildStepFailedError extends InvalidArgumentError {
  constructor(message: string, readonly exitCode: number) {
    super(message, { code: 'BERTH_BUILD_STEP_FAILED' });
  }
}

export interface StageState {
  name?: string;
  image: Digest | undefined;
  config: ContainerConfig;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  author?: string;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

function envMap(config: ContainerConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of config.Env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) map.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return map;
}

export class ImageBuilder {
  private cacheSources: Digest[] = [];

  constructor(private readonly engine: BuilderEngine, private readonly cache: BuildCache, private readonly tempRoot: string, private readonly limits: BuildLimits = DEFAULT_BUILD_LIMITS) {}

  async build(options: BuildOptions, out: BuildOutput, dockerfile: ParsedDockerfile): Promise<Digest> {
    const { escape, instructions } = dockerfile;
    const total = instructions.length;
    const usedArgs = new Set<string>();
    const metaArgs = new Map<string, string | undefined>();
    const stages: StageState[] = [];
    let stage: StageState | undefined;
    let step = 0;
    if (options.platform) this.checkPlatform(options.platform);
    const lastStageIndex = options.target === undefined ? -1 : this.targetStage(instructions, options.target);
    this.cacheSources = [];
    for (const name of options.cacheFrom ?? []) {
      // As Docker: a --cache-from image that is not here is skipped, not pulled.
      const id = this.engine.localImage(name);
      if (id) this.cacheSources.push(id);
    }
    try {
      for (const instruction of instructions) {
        if (instruction.keyword === 'FROM' && stage && lastStageIndex !== -1 && stages.length - 1 === lastStageIndex) break;
        step++;
        out.stream(`Step ${step}/${total} : ${instruction.original}\n`);
        try {
          if (instruction.keyword === 'FROM') {
            stage = await this.from(instruction, escape, metaArgs, stages, options, out);
            stages.push(stage);
            continue;
          }
          if (!stage) {
            if (instruction.keyword !== 'ARG') throw new DockerfileError('no build stage in current context');
            for (const [name, value] of keyValuePairs(instruction.args, (n) => metaArgs.get(n), escape, 'ARG')) {
              const given = Object.prototype.hasOwnProperty.call(options.buildArgs, name) ? options.buildArgs[name] : undefined;
              metaArgs.set(name, given ?? value);
              if (given !== undefined) usedArgs.add(name);
            }
            continue;
          }
          await this.step(stage, instruction, escape, metaArgs, usedArgs, stages, options, out);
        } catch (err) {
          if (err instanceof DockerfileError && !err.message.startsWith('Dockerfile parse error')) throw DockerfileError.atLine(instruction.line, err);
          throw err;
        }
      }
      if (!stage) throw new DockerfileError('no build stage in current context');
      if (Object.keys(options.labels).length > 0) {
        const config = { ...stage.config, Labels: { ...(stage.config.Labels ?? {}), ...options.labels } };
        await this.commitConfig(stage, config, `/bin/sh -c #(nop)  LABEL ${Object.entries(options.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`, options, out, true);
      }
      const unused = Object.keys(options.buildArgs).filter((a) => !usedArgs.has(a) && !PREDEFINED_ARGS.has(a));
      if (unused.length > 0) out.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
      if (!stage.image) {
        // FROM scratch with nothing in it: an empty image still needs an ID.
        await this.commitConfig(stage, stage.config, '', options, out, true);
      }
      const id = stage.image!;
      out.aux({ ID: id });
      out.stream(`Successfully built ${short(id)}\n`);
      for (const tag of options.tags) {
        await this.engine.tag(id, tag);
        out.stream(`Successfully tagged ${tag.includes(':') && !tag.includes('/') || /:[^/]+$/.test(tag) ? tag : `${tag}:latest`}\n`);
      }
      return id;
    } finally {
      await this.cache.save();
    }
  }

  /** A step's image from the cache: this daemon's own, else an image given with --cache-from. */
  private async cached(stage: StageState, key: string, createdBy: string, config: ContainerConfig, options: BuildOptions): Promise<Digest | undefined> {
    if (options.noCache) return undefined;
    const own = this.cache.lookup(key, (id) => this.engine.imageExists(id));
    if (own) return own;
    for (const source of this.cacheSources) {
      const restored = await this.engine.restoreCachedStep(stage.image, source, { config, createdBy });
      if (restored) {
        this.cache.record(key, stage.image, restored, createdBy);
        return restored;
      }
    }
    return undefined;
  }

  /** A RUN, COPY or ADD found in the cache: the stage moves on to its image, as Docker prints it. */
  private async reuseCached(stage: StageState, key: string, createdBy: string, options: BuildOptions, out: BuildOutput): Promise<boolean> {
    const cached = await this.cached(stage, key, createdBy, stage.config, options);
    if (!cached) return false;
    out.stream(' ---> Using cache\n');
    out.stream(` ---> ${short(cached)}\n`);
    stage.image = cached;
    return true;
  }

  /** Another platform would need emulation and platform-specific pulls: a clear refusal instead. */
  private checkPlatform(platform: string): void {
    if (!platform) return; // an unset $BUILDPLATFORM, as the classic builder leaves it
    const [os, arch] = platform.toLowerCase().split('/');
    const [hostOs, hostArch] = this.engine.hostPlatform.split('/');
    if (os !== hostOs || (arch !== undefined && arch !== hostArch)) {
      throw new InvalidArgumentError(`not supported by berth yet: building for platform ${platform} (this host builds ${this.engine.hostPlatform})`);
    }
  }

  private targetStage(instructions: Instruction[], target: string): number {
    let index = -1;
    for (const instruction of instructions) {
      if (instruction.keyword !== 'FROM') continue;
      index++;
      const m = /\s+as\s+(\S+)\s*$/i.exec(instruction.args);
      if (m && m[1]!.toLowerCase() === target.toLowerCase()) return index;
    }
    throw new InvalidArgumentError(`failed to reach build target ${target} in Dockerfile`);
  }

  private async from(instruction: Instruction, escape: string, metaArgs: Map<string, string | undefined>, stages: StageState[], options: BuildOptions, out: BuildOutput): Promise<StageState> {
    const platform = flagValues(instruction, ['platform']).get('platform');
    if (platform) this.checkPlatform(expandWord(platform, (n) => metaArgs.get(n), escape));
    const m = /^(\S+)(?:\s+as\s+(\S+))?\s*$/i.exec(instruction.args);
    if (!m) throw DockerfileError.atLine(instruction.line, 'FROM requires either one or three arguments');
    const baseName = expandWord(m[1]!, (n) => metaArgs.get(n), escape);
    const name = m[2]?.toLowerCase();
    const previous = stages.find((s) => s.name !== undefined && s.name === baseName.toLowerCase());
    let image: Digest | undefined;
    if (previous) image = previous.image;
    else if (baseName !== 'scratch') image = await this.engine.resolveImage(baseName, options.pull, options.registryAuth);
    const config: ContainerConfig = image ? structuredClone(this.engine.imageConfig(image)) : {};
    out.stream(image ? ` ---> ${short(image)}\n` : ' ---> \n');
    const state: StageState = { ...(name ? { name } : {}), image, config, args: new Map(), cmdSet: false };
    const triggers = (config as { OnBuild?: string[] | null }).OnBuild ?? [];
    if (triggers.length > 0) {
      out.stream(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}\n`);
      (state.config as { OnBuild?: string[] | null }).OnBuild = null;
      for (const trigger of triggers) {
        const parsed = parseDockerfile(`FROM scratch\n${trigger}`).instructions[1]!;
        if (parsed.keyword === 'ONBUILD' || parsed.keyword === 'FROM' || parsed.keyword === 'MAINTAINER') throw new DockerfileError(`${parsed.keyword} isn't allowed as an ONBUILD trigger`);
        await this.step(state, parsed, escape, metaArgs, new Set(), stages, options, out);
      }
    }
    return state;
  }

  private lookup(stage: StageState): Lookup {
    const env = envMap(stage.config);
    return (name) => env.get(name) ?? stage.args.get(name);
  }

  /** Build args in effect for RUN: declared with ARG and set; they reach RUN's environment only. */
  private runArgs(stage: StageState): [string, string][] {
    const env = envMap(stage.config);
    return [...stage.args].filter((e): e is [string, string] => e[1] !== undefined && !env.has(e[0]));
  }

  private async step(stage: StageState, instruction: Instruction, escape: string, metaArgs: Map<string, string | undefined>, usedArgs: Set<string>, stages: StageState[], options: BuildOptions, out: BuildOutput): Promise<void> {
    const lookup = this.lookup(stage);
    const config: ContainerConfig = structuredClone(stage.config);
    const nop = (text: string) => `/bin/sh -c #(nop)  ${text}`;
    const execOrShell = (): string[] => instruction.json ?? [...(config.Shell ?? DEFAULT_SHELL), instruction.args];
    switch (instruction.keyword) {
      case 'ARG': {
        flagValues(instruction, []);
        for (const [name, value] of keyValuePairs(instruction.args, lookup, escape, 'ARG')) {
          const given = Object.prototype.hasOwnProperty.call(options.buildArgs, name) ? options.buildArgs[name] : undefined;
          if (given !== undefined && given !== null) usedArgs.add(name);
          stage.args.set(name, given ?? value ?? metaArgs.get(name));
        }
        out.stream(stage.image ? ` ---> ${short(stage.image)}\n` : '');
        return;
      }
      case 'ENV': {
        const env = envMap(config);
        for (const [name, value] of keyValuePairs(instruction.args, lookup, escape, 'ENV')) env.set(name, value);
        config.Env = [...env].map(([k, v]) => `${k}=${v}`);
        return this.commitConfig(stage, config, nop(`ENV ${[...keyValuePairs(instruction.args, lookup, escape, 'ENV')].map(([k, v]) => `${k}=${v}`).join(' ')}`), options, out);
      }
      case 'LABEL': {
        config.Labels = { ...(config.Labels ?? {}) };
        for (const [name, value] of keyValuePairs(instruction.args, lookup, escape, 'LABEL')) config.Labels[name] = value;
        return this.commitConfig(stage, config, nop(`LABEL ${instruction.args}`), options, out);
      }
      case 'MAINTAINER':
        stage.author = instruction.args;
        return this.commitConfig(stage, config, nop(`MAINTAINER ${instruction.args}`), options, out);
      case 'CMD':
        config.Cmd = execOrShell();
        stage.cmdSet = true;
        return this.commitConfig(stage, config, nop(`CMD ${JSON.stringify(config.Cmd)}`), options, out);
      case 'ENTRYPOINT':
        config.Entrypoint = instruction.json ?? (instruction.args ? [...(config.Shell ?? DEFAULT_SHELL), instruction.args] : null as unknown as string[]);
        if (!stage.cmdSet) config.Cmd = null as unknown as string[];
        return this.commitConfig(stage, config, nop(`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`), options, out);
      case 'WORKDIR': {
        const dir = expandWord(instruction.args, lookup, escape);
        config.WorkingDir = posix.isAbsolute(dir) ? posix.normalize(dir) : posix.join(config.WorkingDir || '/', dir);
        return this.commitConfig(stage, config, `/bin/sh -c #(nop) WORKDIR ${config.WorkingDir}`, options, out);
      }
      case 'USER':
        config.User = expandWord(instruction.args, lookup, escape);
        if (!config.User) throw new DockerfileError('USER requires exactly one argument');
        return this.commitConfig(stage, config, nop(`USER ${config.User}`), options, out);
      case 'EXPOSE': {
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
        const ports = expandWords(instruction.args, lookup, escape);
        if (ports.length === 0) throw new DockerfileError('EXPOSE requires at least one argument');
        for (const port of ports) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(port);
          if (!m) throw new DockerfileError(`invalid containerPort: ${port}`);
          for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) config.ExposedPorts[`${p}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        return this.commitConfig(stage, config, nop(`EXPOSE ${Object.keys(config.ExposedPorts).join(' ')}`), options, out);
      }
      case 'VOLUME': {
        const volumes = instruction.json ?? expandWords(instruction.args, lookup, escape);
        if (volumes.length === 0) throw new DockerfileError('VOLUME requires at least one argument');
        config.Volumes = { ...(config.Volumes ?? {}) };
        for (const v of volumes) {
          if (!v.trim()) throw new DockerfileError('VOLUME specified can not be an empty string');
          config.Volumes[v] = {};
        }
        return this.commitConfig(stage, config, nop(`VOLUME ${JSON.stringify(volumes)}`), options, out);
      }
      case 'STOPSIGNAL':
        config.StopSignal = expandWord(instruction.args, lookup, escape);
        return this.commitConfig(stage, config, nop(`STOPSIGNAL ${config.StopSignal}`), options, out);
      case 'SHELL':
        if (!instruction.json || instruction.json.length === 0) throw new DockerfileError('SHELL requires the arguments to be in JSON form');
        config.Shell = instruction.json;
        return this.commitConfig(stage, config, nop(`SHELL ${JSON.stringify(config.Shell)}`), options, out);
      case 'ONBUILD': {
        const trigger = instruction.args.trim();
        const keyword = trigger.split(/\s+/)[0]?.toUpperCase() ?? '';
        if (keyword === 'ONBUILD') throw new DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (keyword === 'FROM' || keyword === 'MAINTAINER') throw new DockerfileError(`${keyword} isn't allowed as an ONBUILD trigger`);
        const holder = config as { OnBuild?: string[] | null };
        holder.OnBuild = [...(holder.OnBuild ?? []), trigger];
        return this.commitConfig(stage, config, nop(`ONBUILD ${trigger}`), options, out);
      }
      case 'HEALTHCHECK':
        config.Healthcheck = healthcheckOf(instruction);
        return this.commitConfig(stage, config, nop(`HEALTHCHECK ${JSON.stringify(config.Healthcheck)}`), options, out);
      case 'RUN':
        flagValues(instruction, []);
        return this.run(stage, instruction, options, out);
      case 'COPY':
      case 'ADD':
        return this.copy(stage, instruction, escape, stages, options, out);
      default:
        throw new DockerfileError(`unknown instruction: ${instruction.keyword}`);
    }
  }

  /** Records a config-only step (cached like every other), printing the new image's ID. */
  private async commitConfig(stage: StageState, config: ContainerConfig, createdBy: string, options: BuildOptions, out: BuildOutput, quiet = false): Promise<void> {
    const key = cacheKey(stage.image, createdBy, config);
    const cached = await this.cached(stage, key, createdBy, config, options);
    if (cached) {
      if (!quiet) out.stream(' ---> Using cache\n');
    } else {
      const id = await this.engine.buildStepImage(stage.image, { config, createdBy, ...(stage.author ? { author: stage.author } : {}) });
      this.cache.record(key, stage.image, id, createdBy);
      stage.image = id;
      stage.config = config;
      if (!quiet) out.stream(` ---> ${short(id)}\n`);
      return;
    }
    stage.image = cached;
    stage.config = config;
    if (!quiet) out.stream(` ---> ${short(cached)}\n`);
  }

  private async run(stage: StageState, instruction: Instruction, options: BuildOptions, out: BuildOutput): Promise<void> {
    if (!stage.image) throw new BuildStepFailedError('no such file or directory: a RUN needs a base image with a shell (FROM scratch has none)', 1);
    const shell = stage.config.Shell ?? DEFAULT_SHELL;
    let command: string[];
    const heredoc = instruction.heredocs[0];
    if (instruction.json) command = instruction.json;
    else if (heredoc && /^<<-?["']?\w+["']?\s*$/.test(instruction.args)) command = [...shell, heredoc.content];
    else if (instruction.heredocs.length > 0) {
      // The shell reads the heredocs itself: hand it the line and the bodies as written.
      command = [...shell, `${instruction.args}\n${instruction.heredocs.map((h) => `${h.content}${h.name}`).join('\n')}`];
    } else command = [...shell, instruction.args];
    const args = this.runArgs(stage);
    const createdBy = args.length > 0 ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ${command.join(' ')}` : command.join(' ');
    const key = cacheKey(stage.image, createdBy, stage.config);
    if (await this.reuseCached(stage, key, createdBy, options, out)) return;
    const hostConfig: Record<string, unknown> = {
      NetworkMode: options.networkMode || 'default',
      ...(options.shmSize ? { ShmSize: options.shmSize } : {}),
      ...(options.memory ? { Memory: options.memory } : {}),
      ...(options.cpuQuota ? { CpuQuota: options.cpuQuota } : {}),
      ...(options.extraHosts?.length ? { ExtraHosts: options.extraHosts } : {}),
    };
    const id = await this.engine.createContainer({
      Image: stage.image,
      Cmd: command,
      Entrypoint: [],
      Env: [...(stage.config.Env ?? []), ...args.map(([k, v]) => `${k}=${v}`)],
      WorkingDir: stage.config.WorkingDir ?? '',
      User: stage.config.User ?? '',
      Labels: {},
      AttachStdout: true,
      AttachStderr: true,
    }, hostConfig);
    out.stream(` ---> Running in ${short(id)}\n`);
    let succeeded = false;
    try {
      let stopped = false;
      // Marked stopped before anyone waiting on `exited` runs, so the log follower ends at once.
      const exited = this.engine.waitContainer(id).finally(() => (stopped = true));
      const streamed = (async () => {
        for await (const batch of followLog(this.engine.containerLogPath(id), { follow: true, stopped: () => stopped, stopping: exited })) {
          const text = batch.map((r) => r.text).join('');
          if (text) out.stream(text);
        }
      })();
      await this.engine.startContainer(id);
      const code = await exited;
      await streamed;
      if (code !== 0) throw new BuildStepFailedError(`The command '${command.join(' ')}' returned a non-zero code: ${code}`, code);
      const image = await this.engine.commitContainer(id, { config: stage.config, createdBy, ...(stage.author ? { author: stage.author } : {}) });
      this.cache.record(key, stage.image, image, createdBy);
      stage.image = image;
      succeeded = true;
    } finally {
      if (succeeded ? options.remove || options.forceRemove : options.forceRemove) {
        await this.engine.removeContainer(id).catch(() => undefined);
        if (succeeded) out.stream(` ---> Removed intermediate container ${short(id)}\n`);
      }
    }
    out.stream(` ---> ${short(stage.image)}\n`);
  }

  private async copy(stage: StageState, instruction: Instruction, escape: string, stages: StageState[], options: BuildOptions, out: BuildOutput): Promise<void> {
    await copyStep({
      engine: this.engine,
      tempRoot: this.tempRoot,
      limits: this.limits,
      lookup: this.lookup(stage),
      reuseCached: (key, createdBy) => this.reuseCached(stage, key, createdBy, options, out),
      recordCache: (key, parent, image, createdBy) => this.cache.record(key, parent, image, createdBy),
    }, stage, instruction, escape, stages, options, out);
  }
}
