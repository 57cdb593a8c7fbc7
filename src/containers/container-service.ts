/**
 * Containers: create, start, stop, kill, wait, remove, under one conmon monitor each (so they keep
 * running when berthd stops), with the rootfs an overlay snapshot of the image. berthd learns of an
 * exit from conmon's exit file, and re-adopts running containers when it starts.
 */
import { matchesLabel } from '../lib/label-filter.js';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { ConflictError, ForbiddenError, InternalError, InvalidArgumentError, NotModifiedError } from '../lib/errors.js';
import { waitInList } from './waiter-list.js';
import type { NewEvent } from '../events/index.js';
import type { ImageService } from '../images/index.js';
import type { Snapshotter } from '../snapshots/index.js';
import { chainIds } from '../snapshots/index.js';
import { buildRuntimeSpec } from '../oci/runtime-spec.js';
import { attachSocketPath, type ConmonMonitor } from '../runtime/conmon-monitor.js';
import { StdinRelay } from '../runtime/conmon-stdin.js';
import type { RuntimeSelection } from '../runtime/index.js';
import type { Digest } from '../content/digest.js';
import { ContainerStore } from './container-store.js';
import { allSettledOrThrow } from '../lib/all-settled.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import { ZERO_TIME, type ContainerConfigInput, type ContainerRecord, type EndpointSettingsInput, type HostConfigInput } from './container-record.js';
import { generateName, normalizeName } from './container-names.js';
import { commandOf, customResolvConf, environmentOf, hostsFile, resolveUser, resolvConf } from './container-process.js';
import { containerCapabilities } from './capabilities.js';
import { checkSupported } from './supported-options.js';
import { compileSeccomp, seccompChoiceOf, type SeccompProfileDocument } from '../oci/seccomp-profile.js';
import { defaultSeccompProfile } from '../oci/seccomp-default.js';
import { consoleSizeOf, resourcesOf, rlimitsOf, tmpfsMounts } from './host-config-spec.js';
import { signalNumber } from './signals.js';
import type { EndpointRecord } from '../network/network-state.js';
import { parsePortBindings, type PortRequest } from '../network/port-bindings.js';
import type { EndpointRequest } from '../network/network-service.js';
import { networkModeOf, exposedPortRequests } from './network-mode.js';
import { planMounts, prepareBindSource, rootfsPropagationFor } from './container-mounts.js';
import { checkHealthcheck, effectiveHealthcheck, HealthMonitor } from './health-check.js';
import { mergeImageConfig } from './image-config-merge.js';
import { cgroupnsModeOf, namespaceModesOf, resolveNamespaces, type CgroupnsMode } from './namespace-modes.js';
import type { HealthConfig } from '../oci/index.js';
import type { ContainerStatsReader } from './container-stats.js';
import type { RootedFilesystem } from '../archive/rooted-path.js';
import type { ContainerConfig } from '../oci/index.js';
import type { Change } from './container-changes.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import { ContainerFilesystem } from './container-filesystem.js';
import { copyUp } from './volume-copy-up.js';
import { ContainerResources } from './container-resources.js';
import { FreezeHolds } from './freeze-holds.js';
import { logFiles, rotateIfNeeded, rotationOf } from '../logs/log-rotation.js';
import { resolveDevices, type DeviceInput } from './devices.js';
import { checkRestartPolicy, nextDelay, restartsWithDaemon, shouldRestart, type RestartPolicy } from './restart-policy.js';

/** Docker's resource flags in the OCI spec's terms (NanoCpus becomes a CFS quota per 100 ms). */
export interface ContainerServiceDeps {
  store: ContainerStore;
  images: ImageService;
  snapshotter: Snapshotter;
  monitor: ConmonMonitor;
  runtimes: RuntimeSelection;
  runner: CommandRunner;
  clock: Clock;
  publish: (event: NewEvent) => void;
  /** Per-container runtime files (bundle, rootfs mount point, attach sockets). */
  execRoot: string;
  heldCapabilities: string[];
  /** Parent cgroup of every container ("/berth", as dockerd's "/docker"). */
  cgroupParent: string;
  /** The daemon's default seccomp profile (Docker's format), or none by the operator's explicit choice. */
  seccompProfile: SeccompProfileDocument | 'unconfined';
  goArch: string;
  /** The host kernel's release, for profile rules that depend on it. */
  kernelRelease: string;
  /** The cgroup namespace a container gets when it asks for none (dockerd: host for privileged ones on cgroup v1). */
  cgroupnsDefault: (privileged: boolean) => CgroupnsMode;
  /** A static init (tini) for --init, bind-mounted into the container as Docker's docker-init. */
  initBinary?: string;
  hostResolvConf: string;
  /** Carries attached stdin to conmon's SOCK_SEQPACKET attach socket. */
  socatPath?: string;
  network: ContainerNetworking;
  hostHostname: string;
  volumes: ContainerVolumes;
  stats: ContainerStatsReader;
}

/** What containers need of volumes (implemented by VolumeService). */
export interface ContainerVolumes {
  create(request: { name?: string; options?: Record<string, string>; labels?: Record<string, string>; anonymous?: boolean }): Promise<{ name: string }>;
  mountpoint(name: string): string;
  prepare(name: string): Promise<string>;
  isEmpty(name: string): Promise<boolean>;
  remove(name: string): Promise<void>;
  get(name: string): { anonymous: boolean };
  release(name: string): Promise<void>;
}

/** What containers need of networking (implemented by NetworkService). */
export interface ContainerNetworking {
  resolve(term: string): { id: string; name: string; driver: string };
  connect(containerId: string, network: string, request: EndpointRequest): Promise<EndpointRecord>;
  /** Refuses an endpoint request with a malformed address (checked again by connect). */
  checkEndpointRequest(request: EndpointRequest): void;
  /** Before the runtime: a network namespace with the endpoints' links; returns its path. */
  prepareSandbox(containerId: string, endpoints: readonly EndpointRecord[]): Promise<string>;
  /** Addresses, routes and published ports of that namespace. */
  configureSandbox(containerId: string, endpoints: readonly EndpointRecord[]): Promise<void>;
  /** Joins a running container (pid) to one more endpoint. */
  plumb(endpoint: EndpointRecord, pid: number, interfaceName: string, defaultRoute: boolean): Promise<void>;
  /** Releases the endpoints (all, with the namespace, or the one on `networkId`). */
  disconnect(containerId: string, networkId?: string): Promise<void>;
  endpointsOf(containerId: string): EndpointRecord[];
  dnsServerFor(networkId: string): string | undefined;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';


export class ContainerService {
  private readonly exitWaiters = new Map<string, ((code: number) => void)[]>();
  private readonly removeWaiters = new Map<string, ((code: number) => void)[]>();
  /** Containers whose exit is being followed, each with the means to stop following it. */
  private readonly watching = new Map<string, AbortController>();
  /** Readers (attach, logs -f) of each container's log: removal waits for them to finish reading. */
  private readonly logReaders = new Map<string, number>();
  private readonly logReadersGone = new Map<string, (() => void)[]>();
  /** Pending restarts (policy backoff) and the last wait of each container. */
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly restartDelays = new Map<string, number>();
  /** Running health checks, per container. */
  private readonly healthMonitors = new Map<string, HealthMonitor>();
  /** The last stats sample of each container (the next one's precpu_stats). */
  /** Exports reading each container's mounted filesystem now. */
  /** Policy restarts whose start is under way (stop waits for them, then stops the new run). */
  /** Serialises the state changes of one container (two starts, a start and an rm -f, ...). */
  private readonly locks = new KeyedMutex();
  /** Containers being created: their image and layers are in use before their record exists. */
  private readonly creating = new Map<string, { name: string; imageId: Digest; chainId: Digest | undefined }>();
  /** Attached stdin waiting for its container to start (the CLI attaches before it starts). */
  private readonly pendingStdin = new Map<string, Set<StdinRelay>>();

  private readonly rotation: NodeJS.Timeout;

  private readonly filesystem: ContainerFilesystem;
  private readonly resources: ContainerResources;
  /** berth's own freezes (commit, docker cp), recorded as such so a restart can undo them. */
  private readonly freezes: FreezeHolds;

  constructor(private readonly deps: ContainerServiceDeps) {
    this.filesystem = new ContainerFilesystem({
      snapshotter: deps.snapshotter,
      runner: deps.runner,
      bundleDir: (id) => this.bundleDir(id),
      dataDir: (id) => deps.store.dir(id),
      statusOf: (id) => deps.store.all().find((r) => r.id === id)?.state.status,
      volumePath: (name) => deps.volumes.prepare(name),
    });
    this.freezes = new FreezeHolds({
      statusOf: (id) => deps.store.all().find((r) => r.id === id)?.state.status,
      setPaused: (id, paused) => this.exclusive(id, (record) => this.setPausedLocked(record, paused, 'engine')),
    });
    this.resources = new ContainerResources({
      cgroupParent: deps.cgroupParent,
      stats: deps.stats,
      runner: deps.runner,
      runtimePath: (record) => this.runtimePath(record),
      save: (record) => deps.store.save(record),
      publish: deps.publish,
    });
    // Once a second, running containers' logs over their max-size are rotated.
    // ... and a monitor that died without recording an exit (killed, OOM) is noticed.
    this.rotation = setInterval(() => {
      void this.rotateLogs();
      void this.checkMonitors();
    }, 1000);
    this.rotation.unref();
  }

  private async rotateLogs(): Promise<void> {
    for (const record of this.deps.store.all()) {
      if (record.state.status !== 'running' && record.state.status !== 'paused') continue;
      try {
        const options = rotationOf(record.hostConfig['LogConfig'] as Parameters<typeof rotationOf>[0]);
        if (await rotateIfNeeded(this.logPath(record.id), options)) await this.deps.monitor.reopenLog(this.bundleDir(record.id));
      } catch {
        // the container stopped meanwhile: its log is complete as it is
      }
    }
  }

  /** The container's log files, oldest first (rotated ones, then the current one). */
  logFiles(id: string): string[] {
    const record = this.get(id);
    return logFiles(this.logPath(record.id), rotationOf(record.hostConfig['LogConfig'] as Parameters<typeof rotationOf>[0]).maxFiles);
  }

  private now(): string {
    return new Date(this.deps.clock.nowMs()).toISOString();
  }

  /** The container's OCI bundle (config.json, rootfs mount point). */
  bundlePath(id: string): string {
    return this.bundleDir(id);
  }

  runtimePathOf(id: string): string {
    return this.runtimePath(this.get(id));
  }

  private bundleDir(id: string): string {
    return join(this.deps.execRoot, 'containers', id);
  }

  private exitDir(): string {
    return join(this.deps.execRoot, 'exits');
  }

  logPath(id: string): string {
    return join(this.deps.store.dir(id), 'ctr.log');
  }

  private runtimePath(record: ContainerRecord): string {
    const runtime = this.deps.runtimes.runtimes.find((r) => r.name === record.runtime);
    if (!runtime) throw new InvalidArgumentError(`unknown or invalid runtime name: ${record.runtime}`);
    return runtime.path;
  }

  get(term: string): ContainerRecord {
    return this.deps.store.resolve(term);
  }

  list(): ContainerRecord[] {
    return this.deps.store.all();
  }

  /** Keeps the container's log in place until the returned release is called. */
  holdLog(id: string): () => void {
    this.logReaders.set(id, (this.logReaders.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.logReaders.get(id) ?? 1) - 1;
      if (left > 0) {
        this.logReaders.set(id, left);
        return;
      }
      this.logReaders.delete(id);
      for (const wake of this.logReadersGone.get(id) ?? []) wake();
      this.logReadersGone.delete(id);
    };
  }

  private async logReadersDone(id: string): Promise<void> {
    // --rm removes a container as soon as it exits, while `docker run` may still be reading its
    // last lines: wait for the readers (they end on their own once the container stopped), not
    // for ever.
    if (!this.logReaders.has(id)) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.logReadersGone.set(id, [...(this.logReadersGone.get(id) ?? []), resolve]);
      timer = setTimeout(resolve, 10_000);
    });
    clearTimeout(timer);
  }

  /** Which containers use an image (for rmi's conflicts). */
  containersUsing(imageId: Digest): { id: string; running: boolean }[] {
    const recorded = this.deps.store.all().filter((r) => r.imageId === imageId).map((r) => ({ id: r.id, running: r.state.status === 'running' }));
    const pending = [...this.creating].filter(([, c]) => c.imageId === imageId).map(([id]) => ({ id, running: false }));
    return [...recorded, ...pending];
  }

  chainsInUse(): Digest[] {
    const pending = [...this.creating.values()].flatMap((c) => (c.chainId ? [c.chainId] : []));
    return [...this.deps.store.all().flatMap((r) => (r.chainId ? [r.chainId] : [])), ...pending];
  }

  /** Runs `section` with the container's record while no other state change of it runs. */
  private exclusive<T>(term: string, section: (record: ContainerRecord) => Promise<T>): Promise<T> {
    const id = this.get(term).id;
    return this.locks.run(id, () => section(this.get(id)));
  }

  counts(): { running: number; paused: number; stopped: number } {
    const all = this.deps.store.all();
    const running = all.filter((r) => r.state.status === 'running').length;
    const paused = all.filter((r) => r.state.status === 'paused').length;
    return { running, paused, stopped: all.length - running - paused };
  }

  async create(name: string | undefined, config: ContainerConfigInput, hostConfig: HostConfigInput): Promise<{ id: string; warnings: string[] }> {
    if (!config.Image) throw new InvalidArgumentError('config.Image is required');
    checkSupported(config, hostConfig);
    checkRestartPolicy(hostConfig['RestartPolicy'] as RestartPolicy | undefined, hostConfig.AutoRemove === true);
    checkHealthcheck((config as { Healthcheck?: HealthConfig }).Healthcheck);
    namespaceModesOf(hostConfig, config.Hostname); // 400 for an unknown --pid, --ipc or --uts
    seccompChoiceOf((hostConfig['SecurityOpt'] as string[] | undefined) ?? []); // 400 for a profile that does not parse
    // As dockerd, the default is resolved at create, so inspect shows it and a later daemon default does not change it.
    hostConfig['CgroupnsMode'] = cgroupnsModeOf(hostConfig['CgroupnsMode'], this.deps.cgroupnsDefault(hostConfig.Privileged === true));
    rotationOf(hostConfig['LogConfig'] as Parameters<typeof rotationOf>[0]); // 400 for a bad driver or log-opt
    await resolveDevices(hostConfig['Devices'] as DeviceInput[] | undefined); // 400 for a missing or non-device path
    const mode = networkModeOf(hostConfig);
    const networking = (config as { NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettingsInput> | null } }).NetworkingConfig;
    delete (config as { NetworkingConfig?: unknown }).NetworkingConfig;
    // The CLI names the default network "default": keep the settings under the network's own name.
    const endpointsConfig = Object.fromEntries(Object.entries(networking?.EndpointsConfig ?? {}).map(([name, settings]) => [this.deps.network.resolve(name).name, settings]));
    if (mode.kind === 'network') this.deps.network.resolve(mode.name); // 404 "network x not found"
    parsePortBindings(hostConfig['PortBindings'] as Parameters<typeof parsePortBindings>[0]);
    const image = this.deps.images.inspect(config.Image); // 404 "No such image" makes the CLI pull
    const imageConfig = image.Config as unknown as import('../oci/index.js').ContainerConfig;
    // Kept as Docker keeps it: the client's config completed from the image's, at create.
    config = mergeImageConfig(config, imageConfig);
    commandOf(config); // "no command specified" at create, as Docker
    let containerName = name ? normalizeName(name) : '';
    const runtime = hostConfig.Runtime || this.deps.runtimes.defaultRuntime;
    if (!this.deps.runtimes.runtimes.some((r) => r.name === runtime)) throw new InvalidArgumentError(`unknown or invalid runtime name: ${runtime}`);
    if (containerName) this.checkName(containerName);
    else {
      for (let retry = 0; !containerName || this.nameTaken(containerName); retry++) containerName = generateName(retry);
    }
    const id = randomBytes(32).toString('hex');
    // The name is reserved from here (no await before this line since the check), until the record exists.
    this.creating.set(id, { name: containerName, imageId: image.Id as Digest, chainId: undefined });
    try {
      return await this.createReserved(id, containerName, runtime, config, hostConfig, image, endpointsConfig);
    } finally {
      this.creating.delete(id);
    }
  }

  private nameTaken(name: string): boolean {
    return this.deps.store.byName(name) !== undefined || [...this.creating.values()].some((c) => c.name === name);
  }

  /** Docker's conflict when a container, or one being created, has the name. */
  private checkName(name: string, exceptId?: string): void {
    this.deps.store.checkName(name, exceptId);
    const pending = [...this.creating].find(([id, c]) => c.name === name && id !== exceptId);
    if (pending) this.deps.store.checkName(name, undefined, pending[0]);
  }

  private async createReserved(id: string, containerName: string, runtime: string, config: ContainerConfigInput, hostConfig: HostConfigInput, image: ReturnType<ImageService['inspect']>, endpointsConfig: Record<string, EndpointSettingsInput>): Promise<{ id: string; warnings: string[] }> {
    const createdVolumes: string[] = [];
    const mounts = await planMounts(hostConfig, Object.keys(config.Volumes ?? {}), { // the image's VOLUMEs are merged in
      ensureVolume: async (request) => {
        const existed = request.name !== undefined && this.volumeExists(request.name);
        const volume = await this.deps.volumes.create(request);
        if (!existed) createdVolumes.push(volume.name);
        return volume.name;
      },
      volumeMountpoint: (name) => this.deps.volumes.mountpoint(name),
      mountsOf: (container) => this.get(container).mounts ?? [],
    }).catch(async (err: unknown) => {
      for (const name of createdVolumes) await this.deps.volumes.remove(name).catch(() => undefined);
      throw err;
    });
    for (const m of mounts) {
      if (m.Type === 'bind' && !m.CreateSource && !(await stat(m.Source).then(() => true, () => false))) {
        for (const name of createdVolumes) await this.deps.volumes.remove(name).catch(() => undefined);
        throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
      }
    }
    const chains = chainIds((image.RootFS?.Layers ?? []) as Digest[]);
    const args = commandOf(config);
    const record: ContainerRecord = {
      id,
      name: containerName,
      created: this.now(),
      imageName: config.Image!,
      imageId: image.Id as Digest,
      chainId: chains[chains.length - 1],
      path: args[0]!,
      args: args.slice(1),
      config: { ...config, Hostname: config.Hostname || id.slice(0, 12) },
      hostConfig,
      runtime,
      ...(Object.keys(endpointsConfig).length > 0 ? { networks: endpointsConfig } : {}),
      ...(mounts.length > 0 ? { mounts } : {}),
      state: { status: 'created', pid: 0, exitCode: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME, oomKilled: false },
      restartCount: 0,
    };
    try {
      // Held under the image lock, so an rmi or GC that runs now sees this container's image and
      // layers in use (or finished before, and the image is gone: 404).
      await this.deps.images.exclusive(async () => {
        this.deps.images.inspect(record.imageId);
        this.creating.set(id, { name: containerName, imageId: record.imageId, chainId: record.chainId });
      });
      await this.deps.snapshotter.prepare(id, record.chainId);
      await this.deps.store.save(record);
    } catch (err) {
      await this.deps.snapshotter.remove(id).catch(() => undefined);
      await this.deps.store.remove(id).catch(() => undefined);
      for (const name of createdVolumes) await this.deps.volumes.remove(name).catch(() => undefined);
      throw err;
    }
    this.deps.publish({ Type: 'container', Action: 'create', Actor: { ID: id, Attributes: { image: config.Image!, name: containerName } } });
    return { id, warnings: [] };
  }

  async start(term: string, options: { restart?: boolean } = {}): Promise<void> {
    return this.exclusive(term, (record) => this.startLocked(record, options));
  }

  private async startLocked(record: ContainerRecord, options: { restart?: boolean }): Promise<void> {
    if (record.state.status === 'running' || record.state.status === 'paused') throw new NotModifiedError('container already started');
    // A policy restart that waited while a user stopped the container does not run.
    if (options.restart && record.manuallyStopped) return;
    if (!options.restart) {
      // A user's start: a pending policy restart is superseded, and the manual stop forgotten.
      this.cancelRestart(record.id);
      record.manuallyStopped = false;
    } else {
      record.restartCount++;
    }
    if (record.state.status === 'removing') throw new ConflictError(`container ${record.id} is marked for removal and cannot be started`);
    const image = this.deps.images.inspect(record.imageId);
    const imageConfig = image.Config as unknown as import('../oci/index.js').ContainerConfig;
    const bundle = this.bundleDir(record.id);
    await mkdir(join(bundle, 'sockets'), { recursive: true });
    await mkdir(this.exitDir(), { recursive: true });
    await rm(join(this.exitDir(), record.id), { force: true });
    await rm(join(bundle, 'oom'), { force: true });
    const mode = networkModeOf(record.hostConfig);
    const netnsPath = mode.kind === 'container' ? this.namespaceOf(mode.container) : undefined;
    let endpoints: EndpointRecord[] = [];
    try {
      // The hostname conflict was checked at create (the record's Hostname is filled in since).
      const namespaceModes = namespaceModesOf(record.hostConfig, undefined);
      const namespaces = resolveNamespaces(namespaceModes, (target) => {
        const other = this.get(target);
        return { id: other.id, pid: other.state.status === 'running' || other.state.status === 'paused' ? other.state.pid : undefined, ipcShareable: other.hostConfig['IpcMode'] === 'shareable', shmPath: this.shmPath(other.id) };
      }, this.shmPath(record.id));
      if (namespaceModes.ipc.kind === 'shareable') await this.mountShareableShm(record);
      const hostname = mode.kind === 'host' || namespaces.uts ? this.deps.hostHostname : record.config.Hostname || record.id.slice(0, 12);
      const dataDir = this.deps.store.dir(record.id);
      if (mode.kind === 'network') endpoints = await this.connectNetworks(record, mode.name);
      // The network namespace is made before the runtime runs, so its wiring overlaps `runc create`.
      const [sandboxPath] = await allSettledOrThrow([endpoints.length > 0 ? this.deps.network.prepareSandbox(record.id, endpoints) : undefined, this.filesystem.mount(record)] as const);
      await writeFile(join(dataDir, 'hostname'), `${hostname}\n`);
      // --add-host name:address; "host-gateway" is the host's address on the container's network.
      const gateway = endpoints[0]?.gateway ?? '127.0.0.1';
      const extraHosts = ((record.hostConfig['ExtraHosts'] as string[] | undefined) ?? []).map((entry) => {
        const colon = entry.indexOf(':');
        const address = entry.slice(colon + 1);
        return { name: entry.slice(0, colon), address: address === 'host-gateway' ? gateway : address };
      });
      const domainname = mode.kind === 'host' || namespaces.uts ? '' : (record.config.Domainname ?? '');
      await writeFile(join(dataDir, 'hosts'), hostsFile(hostname, endpoints[0]?.ipAddress, extraHosts, domainname));
      const embeddedDns = endpoints[0] ? this.deps.network.dnsServerFor(endpoints[0].networkId) : undefined;
      const custom = { servers: (record.hostConfig['Dns'] as string[] | undefined) ?? [], search: (record.hostConfig['DnsSearch'] as string[] | undefined) ?? [], options: (record.hostConfig['DnsOptions'] as string[] | undefined) ?? [] };
      await writeFile(join(dataDir, 'resolv.conf'), customResolvConf(resolvConf(this.deps.hostResolvConf, embeddedDns), embeddedDns ? { ...custom, servers: [] } : custom));
      const user = await resolveUser(this.filesystem.rootfs(record.id), record.config.User || imageConfig.User || '', (record.hostConfig['GroupAdd'] as string[] | undefined) ?? []);
      const env = environmentOf(record.config, imageConfig, hostname);
      if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
      const privileged = record.hostConfig.Privileged === true;
      const securityOpts = (record.hostConfig['SecurityOpt'] as string[] | undefined) ?? [];
      const capabilities = privileged ? this.deps.heldCapabilities : containerCapabilities(record.hostConfig.CapAdd ?? [], record.hostConfig.CapDrop ?? [], this.deps.heldCapabilities);
      const seccomp = this.seccompFor(securityOpts, capabilities, privileged);
      const useInit = record.hostConfig['Init'] === true;
      if (useInit && !this.deps.initBinary) throw new InvalidArgumentError('--init needs tini-static (Debian package tini): it was not found');
      const spec = buildRuntimeSpec({
        process: {
          args: useInit ? ['/sbin/docker-init', '--', record.path, ...record.args] : [record.path, ...record.args],
          env,
          cwd: record.config.WorkingDir || imageConfig.WorkingDir || '/',
          uid: user.uid,
          gid: user.gid,
          additionalGids: user.additionalGids,
          terminal: record.config.Tty === true,
          consoleSize: consoleSizeOf(record.hostConfig),
          capabilities,
          noNewPrivileges: securityOpts.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
          rlimits: rlimitsOf(record.hostConfig),
        },
        rootfs: this.filesystem.rootfs(record.id),
        readonlyRootfs: record.hostConfig.ReadonlyRootfs === true,
        hostname,
        ...(domainname ? { domainname } : {}),
        mounts: [
          { destination: '/etc/hostname', type: 'bind', source: join(dataDir, 'hostname'), options: ['rbind', 'rprivate'] },
          { destination: '/etc/hosts', type: 'bind', source: join(dataDir, 'hosts'), options: ['rbind', 'rprivate'] },
          { destination: '/etc/resolv.conf', type: 'bind', source: join(dataDir, 'resolv.conf'), options: ['rbind', 'rprivate'] },
          ...(useInit ? [{ destination: '/sbin/docker-init', type: 'bind', source: this.deps.initBinary!, options: ['rbind', 'ro', 'rprivate'] }] : []),
          ...tmpfsMounts(record.hostConfig),
          ...(await this.volumeMounts(record)),
        ],
        rootfsPropagation: await rootfsPropagationFor(record.mounts ?? [], await readFile('/proc/self/mountinfo', 'utf8')),
        shmSizeBytes: record.hostConfig.ShmSize || 64 * 1024 * 1024,
        cgroupsPath: `${this.deps.cgroupParent.replace(/\/$/, '')}/${record.id}`,
        privileged,
        seccomp,
        resources: resourcesOf(record.hostConfig),
        hostNetwork: mode.kind === 'host',
        shared: namespaces,
        cgroupNamespace: cgroupnsModeOf(record.hostConfig['CgroupnsMode'], this.deps.cgroupnsDefault(privileged)) === 'private',
        // runc 1.1 ignores the spec's domainname; the UTS-namespaced sysctl sets it on every version.
        sysctls: { ...(domainname ? { 'kernel.domainname': domainname } : {}), ...((record.hostConfig['Sysctls'] as Record<string, string> | undefined) ?? {}) },
        devices: await resolveDevices(record.hostConfig['Devices'] as DeviceInput[] | undefined),
        netnsPath: netnsPath ?? sandboxPath,
      });
      // A plain write: the bundle is runtime state, written anew at every start (no fsync needed).
      await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
      const runtimePath = this.runtimePath(record);
      // A runtime state left by a crash would make `runc create` refuse the ID: clear it first.
      if (await this.deps.monitor.hasState(record.id)) await this.deps.monitor.delete(record.id, runtimePath).catch(() => undefined);
      const creating = this.deps.monitor.create({
        id: record.id,
        name: record.name,
        bundleDir: bundle,
        runtimePath,
        logPath: this.logPath(record.id),
        exitDir: this.exitDir(),
        socketDir: join(bundle, 'sockets'),
        // No conmon limit: its byte count is not reset when berthd rotates, so it would truncate
        // the current file (losing lines) once the container's lifetime output passed it.
        logSizeMax: -1,
        stdin: record.config.OpenStdin === true,
        // As Docker: with a TTY, a client that goes away leaves stdin open (its EOF is ^D on the pty).
        leaveStdinOpen: record.config.StdinOnce !== true || record.config.Tty === true,
        terminal: record.config.Tty === true,
      });
      const configuring = endpoints.length > 0 ? this.deps.network.configureSandbox(record.id, endpoints) : undefined;
      const [{ pid }] = await allSettledOrThrow([creating, configuring] as const);
      // Stdin sent before start reaches the process first thing: connect before `runc start`.
      await this.connectPendingStdin(record.id);
      await this.deps.monitor.start(record.id, runtimePath);
      record.state = { ...record.state, status: 'running', pid, exitCode: 0, error: '', startedAt: this.now(), finishedAt: ZERO_TIME, oomKilled: false };
      await this.deps.store.save(record);
    } catch (err) {
      record.state = { ...record.state, status: record.state.startedAt === ZERO_TIME ? 'created' : 'exited', error: (err as Error).message, exitCode: 128 };
      await this.deps.store.save(record).catch(() => undefined);
      await this.deps.monitor.delete(record.id, this.runtimePath(record)).catch(() => undefined);
      await this.deps.network.disconnect(record.id).catch(() => undefined);
      await this.filesystem.unmount(record.id).catch(() => undefined);
      await this.unmountShareableShm(record.id).catch(() => undefined);
      // Whoever waits for this run to end (an attached client, `wait`) learns it never began.
      for (const wake of this.exitWaiters.get(record.id) ?? []) wake(record.state.exitCode);
      this.exitWaiters.delete(record.id);
      // As Docker: a --rm container that could not start is removed too.
      if (record.hostConfig.AutoRemove) await this.removeLocked(record, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
    for (const m of record.mounts ?? []) if (m.Type === 'volume') this.deps.publish({ Type: 'volume', Action: 'mount', Actor: { ID: m.Name!, Attributes: { container: record.id, destination: m.Destination, driver: 'local', 'read/write': String(m.RW) } } });
    this.deps.publish({ Type: 'container', Action: 'start', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
    this.watchExit(record.id);
    this.startHealthCheck(record);
  }

  /**
   * A writer for the container's stdin, when it was created with OpenStdin (-i); undefined when
   * it was not, as Docker then drops what is sent. Before start, input is queued.
   */
  async openStdin(term: string): Promise<StdinRelay | undefined> {
    const record = this.get(term);
    if (record.config.OpenStdin !== true) return undefined;
    if (!this.deps.socatPath) throw new InternalError('attaching stdin needs socat (Debian package socat): it was not found');
    const relay = new StdinRelay(this.deps.socatPath);
    if (record.state.status === 'running' || record.state.status === 'paused') {
      await relay.connect(attachSocketPath(this.bundleDir(record.id)));
    } else {
      const pending = this.pendingStdin.get(record.id) ?? new Set<StdinRelay>();
      pending.add(relay);
      this.pendingStdin.set(record.id, pending);
    }
    return relay;
  }

  /** Forgets a relay that never connected (its client went away before start). */
  dropStdin(id: string, relay: StdinRelay): void {
    relay.close();
    this.pendingStdin.get(id)?.delete(relay);
  }

  private async connectPendingStdin(id: string): Promise<void> {
    const pending = this.pendingStdin.get(id);
    if (!pending) return;
    this.pendingStdin.delete(id);
    const path = attachSocketPath(this.bundleDir(id));
    await Promise.all([...pending].map((relay) => relay.connect(path).catch(() => relay.close())));
  }

  /** Resizes a running container's TTY (POST /containers/{id}/resize). */
  async resize(term: string, height: number, width: number): Promise<void> {
    const record = this.get(term);
    if (record.state.status !== 'running' && record.state.status !== 'paused') throw new ConflictError(`Container ${record.id} is not running`);
    if (record.config.Tty !== true) return;
    await this.deps.monitor.resize(this.bundleDir(record.id), height, width);
  }

  private volumeExists(name: string): boolean {
    try {
      this.deps.volumes.get(name);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The runtime mounts of the container's volumes, binds and tmpfs mounts, parents first. An empty
   * volume mounted where the image has files gets a copy of them first (owners and modes kept).
   */
  private async volumeMounts(record: ContainerRecord): Promise<{ destination: string; type: string; source: string; options: string[] }[]> {
    const mounts = [...(record.mounts ?? [])].sort((a, b) => a.Destination.split('/').length - b.Destination.split('/').length);
    const result: { destination: string; type: string; source: string; options: string[] }[] = [];
    for (const m of mounts) {
      if (m.Type === 'tmpfs') {
        const options = ['nosuid', 'nodev', ...(m.RW ? [] : ['ro']), ...(m.TmpfsSizeBytes ? [`size=${m.TmpfsSizeBytes}`] : []), ...(m.TmpfsMode ? [`mode=${m.TmpfsMode.toString(8)}`] : [])];
        result.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options });
        continue;
      }
      let source = m.Source;
      if (m.Type === 'volume') {
        source = await this.deps.volumes.prepare(m.Name!);
        if (!m.NoCopy && (await this.deps.volumes.isEmpty(m.Name!))) await copyUp(this.deps.runner, this.filesystem.rootfs(record.id), m.Destination, source, m.Name!);
      } else {
        await prepareBindSource(m);
      }
      result.push({ destination: m.Destination, type: 'bind', source, options: ['rbind', m.RW ? 'rw' : 'ro', m.Propagation || 'rprivate'] });
    }
    return result;
  }

  /** Reserves the container's endpoints: its NetworkMode network first, then any others it names. */
  private async connectNetworks(record: ContainerRecord, primary: string): Promise<EndpointRecord[]> {
    const settings = record.networks ?? {};
    const names = [primary, ...Object.keys(settings).filter((n) => n !== primary && this.deps.network.resolve(n).name !== this.deps.network.resolve(primary).name)];
    const endpoints: EndpointRecord[] = [];
    for (const [index, name] of names.entries()) endpoints.push(await this.deps.network.connect(record.id, name, this.endpointRequest(record, settings[name], index === 0 ? this.portRequests(record) : [])));
    return endpoints;
  }

  private endpointRequest(record: ContainerRecord, settings: EndpointSettingsInput | undefined, ports: PortRequest[]): EndpointRequest {
    const aliases = settings?.Aliases ?? [];
    return { names: [record.name, record.id.slice(0, 12), ...aliases], aliases, ipv4Address: settings?.IPAMConfig?.IPv4Address || undefined, macAddress: settings?.MacAddress || undefined, ports };
  }

  /** POST /networks/{id}/connect: joins now when the container runs, else at its next start. */
  async connectNetwork(term: string, networkTerm: string, settings: EndpointSettingsInput): Promise<void> {
    const record = this.get(term);
    const network = this.deps.network.resolve(networkTerm);
    const mode = networkModeOf(record.hostConfig);
    if (mode.kind !== 'network') throw new InvalidArgumentError(`container sharing network namespace with another container or host cannot be connected to any other network`);
    if (network.driver !== 'bridge') throw new InvalidArgumentError(`container cannot be disconnected from host network or connected to host network`);
    const current = this.deps.network.endpointsOf(record.id);
    if (current.some((e) => e.networkId === network.id) || (record.networks && network.name in record.networks)) throw new ForbiddenError(`endpoint with name ${record.name} already exists in network ${network.name}`);
    // Now, not at the next start: a created container keeps these settings until then.
    this.deps.network.checkEndpointRequest(this.endpointRequest(record, settings, []));
    if (record.state.status === 'running' || record.state.status === 'paused') {
      const endpoint = await this.deps.network.connect(record.id, network.id, this.endpointRequest(record, settings, []));
      try {
        await this.deps.network.plumb(endpoint, record.state.pid, `eth${current.length}`, current.length === 0);
      } catch (err) {
        await this.deps.network.disconnect(record.id, network.id).catch(() => undefined);
        throw err;
      }
    }
    record.networks = { ...(record.networks ?? {}), [network.name]: settings };
    await this.deps.store.save(record);
  }

  /** POST /networks/{id}/disconnect. */
  async disconnectNetwork(term: string, networkTerm: string): Promise<void> {
    const record = this.get(term);
    const network = this.deps.network.resolve(networkTerm);
    const joined = this.deps.network.endpointsOf(record.id).some((e) => e.networkId === network.id) || (record.networks && network.name in record.networks) || networkModeOf(record.hostConfig).kind === 'network' && (networkModeOf(record.hostConfig) as { name: string }).name === network.name;
    if (!joined) throw new ForbiddenError(`container ${record.id} is not connected to network ${network.name}`);
    await this.deps.network.disconnect(record.id, network.id);
    const rest = { ...(record.networks ?? {}) };
    delete rest[network.name];
    record.networks = rest;
    // Leaving the NetworkMode network: the next start joins none of it (Docker keeps the mode name).
    await this.deps.store.save(record);
  }

  /** The published ports asked for: -p bindings, and with -P every exposed port on an ephemeral one. */
  private portRequests(record: ContainerRecord): PortRequest[] {
    const bindings = parsePortBindings(record.hostConfig['PortBindings'] as Parameters<typeof parsePortBindings>[0]);
    if (record.hostConfig['PublishAllPorts'] !== true) return bindings;
    const image = this.deps.images.inspect(record.imageId);
    const exposed = { ...((image.Config as { ExposedPorts?: Record<string, unknown> } | undefined)?.ExposedPorts ?? {}), ...(record.config.ExposedPorts ?? {}) };
    return [...bindings, ...exposedPortRequests(exposed, bindings)];
  }

  /** --network container:<name>: the running container's network namespace. */
  private namespaceOf(term: string): string {
    const other = this.get(term);
    if (other.state.status !== 'running' && other.state.status !== 'paused') throw new ConflictError(`cannot join network of a non running container: ${other.id}`);
    return `/proc/${other.state.pid}/ns/net`;
  }

  /** POST /commit: the container's diff as a new layer over its image (paused meanwhile unless asked not to). */
  async commit(term: string, options: { repo?: string; tag?: string; author?: string; comment?: string; changes: string[]; pause: boolean }): Promise<string> {
    const record = this.get(term);
    const image = this.deps.images.inspect(record.imageId);
    const imageConfig = (image.Config ?? {}) as unknown as ContainerConfig;
    const env = new Map<string, string>();
    for (const e of [...(imageConfig.Env ?? []), ...(record.config.Env ?? [])]) if (e.includes('=')) env.set(e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1));
    const config: ContainerConfig = {
      ...imageConfig,
      ...(record.config.User ? { User: record.config.User } : {}),
      ...(record.config.WorkingDir ? { WorkingDir: record.config.WorkingDir } : {}),
      // The container's own (merged at create): null after `--entrypoint ""` clears the image's.
      Cmd: record.config.Cmd ?? null,
      Entrypoint: record.config.Entrypoint ?? null,
      ...(record.config.Healthcheck ? { Healthcheck: record.config.Healthcheck } : {}),
      ...(record.config.StopSignal ? { StopSignal: record.config.StopSignal } : {}),
      Env: [...env].map(([k, v]) => `${k}=${v}`),
      Labels: { ...(imageConfig.Labels ?? {}), ...(record.config.Labels ?? {}) },
      ExposedPorts: { ...(imageConfig.ExposedPorts ?? {}), ...(record.config.ExposedPorts ?? {}) },
    };
    // A running container is frozen by berth (not its user) meanwhile, shared with any docker cp.
    const thaw = options.pause ? await this.freezes.hold(record.id) : async () => undefined;
    try {
      return await this.deps.images.commitImage(record.imageId, this.filesystem.diffLayer(record), { ...options, config, createdBy: [record.path, ...record.args].join(' '), containerId: record.id });
    } finally {
      await thaw().catch(() => undefined);
    }
  }

  /** Where a --ipc shareable container's /dev/shm lives on the host, for others to bind. */
  private shmPath(id: string): string {
    return join(this.bundleDir(id), 'shm');
  }

  private async mountShareableShm(record: ContainerRecord): Promise<void> {
    const target = this.shmPath(record.id);
    await mkdir(target, { recursive: true });
    if ((await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${target} `)) return;
    const size = (record.hostConfig.ShmSize as number | undefined) || 64 * 1024 * 1024;
    await mountAll([{ type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`] }], target, this.deps.runner);
  }

  private async unmountShareableShm(id: string): Promise<void> {
    const target = this.shmPath(id);
    if ((await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')).includes(` ${target} `)) await unmount(target, this.deps.runner);
  }

  /** A build step: the container's diff as a layer over its image, with the builder's config. */
  async commitBuildStep(term: string, options: { config: ContainerConfig; createdBy: string; author?: string }): Promise<Digest> {
    const record = this.get(term);
    return this.deps.images.buildStepImage(record.imageId, { ...options, layer: this.filesystem.diffLayer(record) });
  }

  /** GET /containers/{id}/export: the whole filesystem as a tar (a stopped container's mounted meanwhile). */
  async export(term: string): Promise<{ stream: NodeJS.ReadableStream; done: () => Promise<void> }> {
    const record = this.get(term);
    const exported = await this.filesystem.export(record);
    this.deps.publish({ Type: 'container', Action: 'export', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
    return exported;
  }

  /** The filesystem as the container's processes see it (docker cp, the builder's COPY). */
  async openFilesystem(term: string): Promise<{ record: ContainerRecord; fs: RootedFilesystem; release: () => Promise<void> }> {
    return this.filesystem.open(this.get(term));
  }

  /** Bytes in each container's writable layer (for /system/df and `ps -s`). */
  async writableSize(id: string): Promise<number> {
    return this.filesystem.writableSize(id);
  }

  /** POST /containers/prune: every stopped container (with the filters' until and label). */
  async prune(filters: { until?: number; labels: string[] }): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const record of this.deps.store.all()) {
      if (record.state.status !== 'exited' && record.state.status !== 'created' && record.state.status !== 'dead') continue;
      if (filters.until !== undefined && Date.parse(record.created) / 1000 >= filters.until) continue;
      const labels = record.config.Labels ?? {};
      if (!filters.labels.every((l) => (l.startsWith('!') ? !matchesLabel(labels, l.slice(1)) : matchesLabel(labels, l)))) continue;
      const size = await this.filesystem.writableSize(record.id);
      await this.remove(record.id, { force: false }).then(() => {
        deleted.push(record.id);
        reclaimed += size;
      }, () => undefined);
    }
    return { deleted, reclaimed };
  }

  /** GET /containers/{id}/stats: one stats document (the route streams them). */
  async stats(term: string): Promise<Record<string, unknown>> {
    return this.resources.stats(this.get(term));
  }

  /** POST /containers/{id}/update. */
  async update(term: string, changes: Record<string, unknown>): Promise<string[]> {
    return this.exclusive(term, (record) => this.resources.update(record, changes));
  }

  /** GET /containers/{id}/changes. */
  async changes(term: string): Promise<Change[]> {
    return this.filesystem.changes(this.get(term));
  }

  /** GET /containers/{id}/top. */
  async top(term: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.resources.top(this.get(term), psArgs);
  }

  /**
   * The seccomp filter for a container, as moby chooses it: none when unconfined (or privileged
   * without a profile of its own), the profile the client sent, the built-in one for "builtin",
   * else the daemon's default.
   */
  private seccompFor(securityOpts: readonly string[], capabilities: string[], privileged: boolean): Record<string, unknown> | undefined {
    const choice = seccompChoiceOf(securityOpts);
    const target = { goArch: this.deps.goArch, kernelRelease: this.deps.kernelRelease, capabilities };
    if (choice.kind === 'custom') return compileSeccomp(choice.profile, target);
    if (choice.kind === 'unconfined' || privileged) return undefined;
    if (choice.kind === 'builtin') return compileSeccomp(defaultSeccompProfile(), target);
    return this.deps.seccompProfile === 'unconfined' ? undefined : compileSeccomp(this.deps.seccompProfile, target);
  }

  /** Follows conmon's exit file for a running container, once. */
  private watchExit(id: string): void {
    if (this.watching.has(id)) return;
    const following = new AbortController();
    this.watching.set(id, following);
    this.deps.monitor.waitExit(this.exitDir(), id, following.signal).then(
      (code) => this.onExit(id, code),
      () => {
        if (this.watching.get(id) === following) this.watching.delete(id);
      },
    );
  }

  /**
   * A container whose conmon is gone without an exit file has lost its monitor: nothing would
   * ever record its exit, and stop would wait for ever. Its processes are killed and the run is
   * recorded as ended (137, as a SIGKILL), with the reason in State.Error.
   */
  private async checkMonitors(): Promise<void> {
    for (const [id, following] of [...this.watching]) {
      if (await this.deps.monitor.monitorPid(this.bundleDir(id))) continue;
      // conmon exits right after it writes the exit file: then the watcher has it.
      if ((await this.deps.monitor.exitCode(this.exitDir(), id).catch(() => undefined)) !== undefined) continue;
      if (this.watching.get(id) !== following) continue;
      following.abort();
      this.watching.delete(id);
      let record: ContainerRecord;
      try {
        record = this.get(id);
      } catch {
        continue;
      }
      await this.deps.monitor.kill(id, this.runtimePath(record), '9').catch(() => undefined);
      record.state = { ...record.state, error: 'the container monitor (conmon) ended without recording an exit code' };
      await this.onExit(id, 137).catch(() => undefined);
    }
  }

  private async onExit(id: string, code: number): Promise<void> {
    this.watching.delete(id);
    let record: ContainerRecord;
    try {
      record = this.deps.store.resolve(id);
    } catch {
      return;
    }
    const oomKilled = await this.deps.monitor.oomKilled(this.bundleDir(id));
    // Independent of each other once the process is gone: the runtime's state, the endpoints, the rootfs.
    await Promise.all([
      this.deps.monitor.delete(id, this.runtimePath(record)).catch(() => undefined),
      this.deps.network.disconnect(id).catch(() => undefined),
      this.filesystem.unmountIfUnheld(id).catch(() => undefined),
      this.unmountShareableShm(id).catch(() => undefined),
    ]);
    this.healthMonitors.get(id)?.stop();
    this.healthMonitors.delete(id);
    // Decided before the state changes, so a stop never sees an "exited" that is about to restart.
    const policy = record.hostConfig['RestartPolicy'] as RestartPolicy | undefined;
    const restart = shouldRestart(policy, { code, manuallyStopped: record.manuallyStopped === true, restartCount: record.restartCount });
    record.state = { ...record.state, status: restart ? 'restarting' : 'exited', pid: 0, exitCode: code, finishedAt: this.now(), oomKilled };
    await this.deps.store.save(record);
    for (const m of record.mounts ?? []) {
      if (m.Type !== 'volume') continue;
      await this.deps.volumes.release(m.Name!).catch(() => undefined);
      this.deps.publish({ Type: 'volume', Action: 'unmount', Actor: { ID: m.Name!, Attributes: { container: id, driver: 'local' } } });
    }
    if (oomKilled) this.deps.publish({ Type: 'container', Action: 'oom', Actor: { ID: id, Attributes: { image: record.imageName, name: record.name } } });
    this.deps.publish({ Type: 'container', Action: 'die', Actor: { ID: id, Attributes: { exitCode: String(code), image: record.imageName, name: record.name } } });
    for (const wake of this.exitWaiters.get(id) ?? []) wake(code);
    this.exitWaiters.delete(id);
    if (restart && !record.manuallyStopped) {
      await this.scheduleRestart(record);
      return;
    }
    if (restart) {
      // Stopped while the exit was being recorded.
      record.state = { ...record.state, status: 'exited' };
      await this.deps.store.save(record);
    }
    this.restartDelays.delete(id);
    if (record.hostConfig.AutoRemove) await this.remove(id, { force: true, volumes: true }).catch(() => undefined);
  }

  /** Starts the container's health check when it has one (image HEALTHCHECK or --health-cmd). */
  private startHealthCheck(record: ContainerRecord): void {
    this.healthMonitors.get(record.id)?.stop();
    this.healthMonitors.delete(record.id);
    let imageHealth: HealthConfig | undefined;
    try {
      imageHealth = (this.deps.images.inspect(record.imageId).Config as { Healthcheck?: HealthConfig } | undefined)?.Healthcheck;
    } catch {
      imageHealth = undefined;
    }
    const config = effectiveHealthcheck(imageHealth, record.config.Healthcheck ?? undefined);
    if (!config) return;
    const monitor = new HealthMonitor(config, {
      exec: async (command, timeoutMs) => {
        const result = await this.deps.runner.run(this.runtimePath(record), ['exec', record.id, ...command], { timeoutMs });
        return { exitCode: result.exitCode ?? -1, output: `${result.stdout}${result.stderr}` };
      },
      report: async (state, changed) => {
        const current = this.deps.store.all().find((r) => r.id === record.id);
        if (!current) return;
        current.state = { ...current.state, health: state };
        await this.deps.store.save(current);
        if (changed) this.deps.publish({ Type: 'container', Action: `health_status: ${state.Status}`, Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
      },
    }, () => this.now());
    record.state = { ...record.state, health: monitor.state };
    this.healthMonitors.set(record.id, monitor);
    monitor.start();
  }

  /** Shows the container as restarting, and starts it again after the backoff. */
  private async scheduleRestart(record: ContainerRecord): Promise<void> {
    const ranMs = Date.parse(record.state.finishedAt) - Date.parse(record.state.startedAt);
    const delay = nextDelay(this.restartDelays.get(record.id), Number.isFinite(ranMs) ? ranMs : 0);
    this.restartDelays.set(record.id, delay);
    record.state = { ...record.state, status: 'restarting' };
    await this.deps.store.save(record);
    const timer = setTimeout(() => {
      this.restartTimers.delete(record.id);
      void this.start(record.id, { restart: true }).catch(async (err: Error) => {
        // Started by a user meanwhile: nothing failed.
        if (err instanceof NotModifiedError) return;
        try {
          const current = this.get(record.id);
          current.state = { ...current.state, status: 'exited', error: err.message };
          await this.deps.store.save(current);
        } catch {
          // removed meanwhile
        }
      });
    }, delay);
    timer.unref();
    this.restartTimers.set(record.id, timer);
  }

  private cancelRestart(id: string): boolean {
    const timer = this.restartTimers.get(id);
    if (!timer) return false;
    clearTimeout(timer);
    this.restartTimers.delete(id);
    return true;
  }

  /** At berthd's start: always and unless-stopped containers that are down (not stopped by a user) start. */
  async startWithDaemon(): Promise<void> {
    for (const record of this.deps.store.all()) {
      if (record.manuallyStopped || !restartsWithDaemon(record.hostConfig['RestartPolicy'] as RestartPolicy | undefined)) continue;
      // A restart already under way holds the container's lock: this start then finds it running.
      if (record.state.status === 'running' || record.state.status === 'paused' || this.restartTimers.has(record.id)) continue;
      await this.start(record.id, { restart: true }).catch(() => undefined);
    }
  }

  private nextExit(id: string, signal?: AbortSignal): Promise<number> {
    return waitInList(this.exitWaiters, id, signal);
  }

  /**
   * Resolves with the exit code when the condition is met. `signal` is the client going away:
   * its waiter leaves the list at once (rejecting), so no dead waiter is kept or called later.
   */
  async wait(term: string, condition: WaitCondition, signal?: AbortSignal): Promise<number> {
    const record = this.get(term);
    if (condition === 'removed') return waitInList(this.removeWaiters, record.id, signal);
    if (condition === 'next-exit' || record.state.status === 'running') return this.nextExit(record.id, signal);
    return record.state.exitCode;
  }

  /** A frozen process cannot act on a signal: stop, kill and rm -f thaw a paused container first. */
  private async thawIfPaused(record: ContainerRecord): Promise<void> {
    if (record.state.status === 'paused') await this.setPausedLocked(record, false);
  }

  async kill(term: string, signal: string | undefined): Promise<void> {
    // As moby: SIGKILL (the default) answers once the container has stopped (10 s at most), so a
    // `docker stop` or `rm` right after sees it stopped. The wait does not hold the lock.
    const exited = await this.exclusive(term, async (record) => {
      const running = record.state.status === 'running' || record.state.status === 'paused';
      const waiting = running && signalNumber(signal || 'KILL') === 9 ? this.nextExit(record.id) : undefined;
      await this.killLocked(record, signal);
      return waiting;
    });
    if (!exited) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
  }

  private async killLocked(record: ContainerRecord, signal: string | undefined): Promise<void> {
    await this.thawIfPaused(record);
    if (record.state.status !== 'running') throw new ConflictError(`Container ${record.id} is not running`);
    const number = signalNumber(signal || 'KILL');
    await this.deps.monitor.kill(record.id, this.runtimePath(record), String(number));
    this.deps.publish({ Type: 'container', Action: 'kill', Actor: { ID: record.id, Attributes: { signal: String(number), image: record.imageName, name: record.name } } });
  }

  async stop(term: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void> {
    // The signal goes out under the container's lock; the wait for the exit does not hold it, so
    // an rm -f or a kill meanwhile is not queued behind the stop timeout.
    const stopping = await this.exclusive(term, async (record) => {
      await this.thawIfPaused(record);
      if (record.state.status === 'restarting') {
        // Stopping a container between restarts ends the restarting; a restart already waiting
        // for the lock sees manuallyStopped and does not run.
        record.manuallyStopped = true;
        this.cancelRestart(record.id);
        record.state = { ...record.state, status: 'exited' };
        await this.deps.store.save(record);
        this.deps.publish({ Type: 'container', Action: 'stop', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
        return undefined;
      }
      if (record.state.status !== 'running') throw new NotModifiedError('container already stopped');
      record.manuallyStopped = true;
      await this.deps.store.save(record);
      const exited = this.nextExit(record.id);
      const signal = signalNumber(options.signal || record.config.StopSignal || 'SIGTERM');
      await this.deps.monitor.kill(record.id, this.runtimePath(record), String(signal));
      return { record, exited, timeout: options.timeoutSeconds ?? record.config.StopTimeout ?? 10 };
    });
    if (!stopping) return;
    const { record, exited, timeout } = stopping;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.max(0, timeout) * 1000)))]);
    clearTimeout(timer);
    if (!inTime) {
      await this.deps.monitor.kill(record.id, this.runtimePath(record), '9').catch(() => undefined);
      await exited;
    }
    this.deps.publish({ Type: 'container', Action: 'stop', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
  }

  async remove(term: string, options: { force: boolean; volumes?: boolean }): Promise<void> {
    return this.exclusive(term, (record) => this.removeLocked(record, options));
  }

  private async removeLocked(record: ContainerRecord, options: { force: boolean; volumes?: boolean }): Promise<void> {
    if (record.state.status === 'restarting') {
      if (!options.force) throw new ConflictError(`cannot remove container "/${record.name}": container is restarting: stop the container before removing or force remove`);
      this.cancelRestart(record.id);
      record.state = { ...record.state, status: 'exited' };
    }
    if (record.state.status === 'paused' && !options.force) {
      throw new ConflictError(`cannot remove container "/${record.name}": container is paused and must be unpaused first`);
    }
    if (options.force) await this.thawIfPaused(record);
    if (record.state.status === 'running') {
      if (!options.force) {
        throw new ConflictError(`cannot remove container "/${record.name}": container is running: stop the container before removing or force remove`);
      }
      const exited = this.nextExit(record.id);
      await this.deps.monitor.kill(record.id, this.runtimePath(record), '9');
      await exited;
      if (!this.deps.store.all().some((r) => r.id === record.id)) return; // AutoRemove got there first
    }
    await this.logReadersDone(record.id);
    if (!this.deps.store.all().some((r) => r.id === record.id)) return;
    // Whatever state it is in, nothing it reserved outlives it: addresses, ports, DNS names, its sandbox.
    await this.deps.network.disconnect(record.id);
    await this.filesystem.unmount(record.id);
    await this.unmountShareableShm(record.id).catch(() => undefined);
    // onExit deleted the runtime's state already; only a crash in between leaves any to clear.
    if (await this.deps.monitor.hasState(record.id)) await this.deps.monitor.delete(record.id, this.runtimePath(record)).catch(() => undefined);
    await this.deps.snapshotter.remove(record.id);
    await rm(this.bundleDir(record.id), { recursive: true, force: true });
    await rm(join(this.exitDir(), record.id), { force: true });
    await this.deps.store.remove(record.id);
    this.resources.forget(record.id);
    // rm -v: the container's anonymous volumes go too, unless another container uses them; named ones never.
    if (options.volumes) {
      for (const m of record.mounts ?? []) {
        if (m.Type !== 'volume' || !m.Name || !this.volumeExists(m.Name) || !this.deps.volumes.get(m.Name).anonymous) continue;
        await this.deps.volumes.remove(m.Name).catch(() => undefined);
      }
    }
    this.deps.publish({ Type: 'container', Action: 'destroy', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
    for (const wake of this.removeWaiters.get(record.id) ?? []) wake(record.state.exitCode);
    this.removeWaiters.delete(record.id);
  }

  async rename(term: string, newName: string): Promise<void> {
    return this.exclusive(term, (record) => this.renameLocked(record, newName));
  }

  private async renameLocked(record: ContainerRecord, newName: string): Promise<void> {
    const name = normalizeName(newName);
    if (name === record.name) throw new ConflictError(`Renaming a container with the same name as its current name`);
    this.checkName(name, record.id);
    const oldName = record.name;
    record.name = name;
    await this.deps.store.save(record);
    this.deps.publish({ Type: 'container', Action: 'rename', Actor: { ID: record.id, Attributes: { oldName: `/${oldName}`, name, image: record.imageName } } });
  }

  /** Freezes (pause) or thaws (unpause) every process of a running container, as its user asks. */
  async setPaused(term: string, paused: boolean): Promise<void> {
    return this.exclusive(term, (record) => this.setPausedLocked(record, paused));
  }

  /**
   * Keeps a running container frozen for berth's own work on its filesystem (commit, docker cp)
   * until the returned release; overlapping holders share one freeze. A user's pause stays.
   */
  holdFrozen(id: string): Promise<() => Promise<void>> {
    return this.freezes.hold(id);
  }

  private async setPausedLocked(record: ContainerRecord, paused: boolean, by: 'user' | 'engine' = 'user'): Promise<void> {
    if (paused && record.state.status === 'paused') throw new ConflictError(`Container ${record.id} is already paused`);
    if (!paused && record.state.status !== 'paused') throw new ConflictError(`Container ${record.id} is not paused`);
    if (paused && record.state.status !== 'running') throw new ConflictError(`Container ${record.id} is not running`);
    if (paused && (record.frozenByEngine === true) !== (by === 'engine')) {
      // Whose pause this is must be on disk before the freeze: a crash right after it leaves a
      // frozen container, and restore thaws only what berth froze.
      if (by === 'engine') record.frozenByEngine = true;
      else delete record.frozenByEngine;
      await this.deps.store.save(record);
    }
    const result = await this.deps.runner.run(this.runtimePath(record), [paused ? 'pause' : 'resume', record.id]);
    if (result.exitCode !== 0) throw new InvalidArgumentError(`${paused ? 'pause' : 'unpause'} failed: ${result.stderr.trim()}`);
    record.state = { ...record.state, status: paused ? 'paused' : 'running' };
    if (!paused) delete record.frozenByEngine;
    await this.deps.store.save(record);
    this.deps.publish({ Type: 'container', Action: paused ? 'pause' : 'unpause', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
  }

  /**
   * At daemon start, every container is settled in a state Docker could show: running ones are
   * re-adopted, exits that happened meanwhile are recorded, and a start that berthd's crash cut
   * short is finished (the process runs: adopted) or undone (the runtime, conmon and the rootfs
   * mount go; the container stays "created").
   */
  async restore(): Promise<void> {
    await Promise.all(this.deps.store.all().map((record) => this.restoreOne(record).catch(() => undefined)));
    await this.removeOrphans();
  }

  /**
   * A create cut short before its record was written leaves a snapshot (and a start cut short
   * after a remove, a bundle) that no record names: nothing refers to them, so they go, with
   * whatever of a run they hold (conmon, runtime state, rootfs mount).
   */
  private async removeOrphans(): Promise<void> {
    const known = (id: string) => this.deps.store.all().some((r) => r.id === id) || this.creating.has(id);
    for (const key of await this.deps.snapshotter.keys()) {
      if (known(key)) continue;
      await this.filesystem.unmount(key).catch(() => undefined);
      await this.deps.snapshotter.remove(key);
    }
    const bundles = join(this.deps.execRoot, 'containers');
    for (const id of await readdir(bundles).catch(() => [] as string[])) {
      if (known(id)) continue;
      await this.deps.monitor.stopMonitor(this.bundleDir(id));
      if (await this.deps.monitor.hasState(id)) {
        for (const runtime of this.deps.runtimes.runtimes) await this.deps.monitor.delete(id, runtime.path).catch(() => undefined);
      }
      await this.filesystem.unmount(id).catch(() => undefined);
      await this.unmountShareableShm(id).catch(() => undefined);
      await rm(this.bundleDir(id), { recursive: true, force: true });
      await rm(join(this.exitDir(), id), { force: true });
    }
  }

  /**
   * A container berth froze for a commit or docker cp that its crash cut short stays frozen for
   * good unless thawed here (its user never asked for that pause); returns the status it has now.
   */
  private async thawEngineFreeze(record: ContainerRecord, status: 'running' | 'paused'): Promise<'running' | 'paused'> {
    if (status !== 'paused' || !record.frozenByEngine) return status;
    const result = await this.deps.runner.run(this.runtimePath(record), ['resume', record.id]);
    if (result.exitCode !== 0) return 'paused';
    this.deps.publish({ Type: 'container', Action: 'unpause', Actor: { ID: record.id, Attributes: { image: record.imageName, name: record.name } } });
    return 'running';
  }

  private async restoreOne(record: ContainerRecord): Promise<void> {
    const status = record.state.status;
    const code = await this.deps.monitor.exitCode(this.exitDir(), record.id);
    if (status === 'running' || status === 'paused' || status === 'restarting' || status === 'created') {
      // start() clears the exit file first: one found for a created container is from the run
      // that start began before the crash.
      if (code !== undefined) {
        await this.onExit(record.id, code);
        return;
      }
      const runtime = await this.deps.monitor.state(record.id, this.runtimePath(record));
      if (runtime && runtime.pid > 0 && (runtime.status === 'running' || runtime.status === 'paused')) {
        const live = await this.thawEngineFreeze(record, runtime.status);
        if (status !== 'running' && status !== 'paused') {
          // Started before the crash, recorded as not yet: the run goes on.
          record.state = { ...record.state, status: live, pid: runtime.pid, exitCode: 0, error: '', startedAt: this.now(), finishedAt: ZERO_TIME };
          await this.deps.store.save(record);
        } else if (live !== status || (live === 'running' && record.frozenByEngine)) {
          record.state = { ...record.state, status: live };
          if (live === 'running') delete record.frozenByEngine;
          await this.deps.store.save(record);
        }
        this.watchExit(record.id);
        this.startHealthCheck(record);
        return;
      }
      if (status !== 'created') {
        record.state = { ...record.state, status: 'exited', pid: 0, exitCode: 255, error: 'the container monitor exited without recording an exit code', finishedAt: this.now() };
        await this.deps.store.save(record);
      }
    }
    // Not running: nothing of a run may be left (a runtime container made by `runc create`, its
    // conmon, the rootfs and shm mounts, an exit file a new start would misread).
    await this.deps.monitor.stopMonitor(this.bundleDir(record.id));
    if (await this.deps.monitor.hasState(record.id)) await this.deps.monitor.delete(record.id, this.runtimePath(record)).catch(() => undefined);
    await this.filesystem.unmount(record.id).catch(() => undefined);
    await this.unmountShareableShm(record.id).catch(() => undefined);
    if (status === 'created') await rm(join(this.exitDir(), record.id), { force: true });
  }
}
