/**
 * The composition root: builds every service from the configuration in dependency order, starts
 * the API on each address, and stops everything in reverse. Two engines with different roots can
 * run in one process.
 */
import { matchesLabelFilters } from '../lib/label-filter.js';
import { mkdir, unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import { buildApi, listen, type Api } from '../api/index.js';
import { EventBus } from '../events/index.js';
import { SystemService, probeHost } from '../system/index.js';
import { detectRuntimes } from '../runtime/index.js';
import type { Clock } from '../lib/clock.js';
import type { CommandRunner } from '../lib/command-runner.js';
import { readBuildInfo } from '../lib/build-info.js';
import { dirname, join } from 'node:path';
import { LocalContentStore } from '../content/index.js';
import { OverlaySnapshotter } from '../snapshots/index.js';
import { ImageService, ImageStore } from '../images/index.js';
import { DistributionService } from '../distribution/index.js';
import { ContainerService, ContainerStore, ExecService, ownCapabilities, toContainerInspect, toContainerSummary } from '../containers/index.js';
import { ConmonMonitor, findConmon, findExecutable } from '../runtime/index.js';
import { NetworkService, parseRoutes, probePort } from '../network/network-service.js';
import { Links } from '../network/links.js';
import { Firewall } from '../network/firewall.js';
import { nameservers } from '../network/dns-server.js';
import { toNetworkJson } from '../network/network-json.js';
import { VolumeService } from '../volumes/volume-service.js';
import { volumeJson } from '../volumes/volume-json.js';
import { mountsJson } from '../containers/container-mounts.js';
import { ContainerArchive } from '../containers/container-archive.js';
import { BuildService } from '../build/build-service.js';
import { buildLimits } from '../build/build-limits.js';
import type { Digest } from '../content/digest.js';
import type { ContainerConfig } from '../oci/index.js';
import type { ContainerConfigInput, HostConfigInput } from '../containers/container-record.js';
import { parseNormalizedReference } from '../images/index.js';
import { resolveUser } from '../containers/container-process.js';
import { ContainerStatsReader } from '../containers/container-stats.js';
import { networkModeOf } from '../containers/network-mode.js';
import { hostname } from 'node:os';
import type { NetworkView } from '../containers/network-settings.js';
import type { ContainerRecord } from '../containers/container-record.js';

import { readFile } from 'node:fs/promises';
import { ensureDirectoryMode } from '../lib/directory-mode.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { InvalidArgumentError, NotFoundError } from '../lib/errors.js';
import type { DaemonConfig } from './config.js';
import { lockDataRoot } from './data-root-lock.js';
import { loadEngineId } from './engine-id.js';
import { lookupGroupId, socketDirectoryMode } from './socket-group.js';

export interface EngineDeps {
  logger: Logger;
  clock: Clock;
  runner: CommandRunner;
  /** PATH used to find runc, crun and the other programs berth runs. */
  searchPath: string;
  pid: number;
}

export interface Engine {
  readonly events: EventBus;
  stop(): Promise<void>;
}

export async function startEngine(config: DaemonConfig, deps: EngineDeps): Promise<Engine> {
  const { logger } = deps;
  const undo: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of undo.reverse()) {
      await step().catch((err: unknown) => logger.warn({ err }, 'error while shutting down'));
    }
    undo.length = 0;
  };
  try {
    const lock = await lockDataRoot(config.dataRoot, deps.pid);
    undo.push(() => lock.release());
    // The exec root is private, except that a socket inside it (the default /run/berth/berth.sock)
    // must be reachable by its --group: then the root is traversable (0711) but not listable, and
    // the socket itself is 0660 root:group, as dockerd's. Everything else in it stays 0700.
    await ensureDirectoryMode(config.execRoot, socketDirectoryMode(config.execRoot, config.hosts));
    // The containers' rootfs mounts and exit files: no other user may reach them.
    await ensureDirectoryMode(join(config.execRoot, 'containers'), 0o700);
    await ensureDirectoryMode(join(config.execRoot, 'exits'), 0o700);
    // The pidfile exists before the API answers, so whoever sees the socket can find the pid.
    await mkdir(dirname(config.pidfile), { recursive: true, mode: 0o755 });
    await writeFileAtomic(config.pidfile, `${deps.pid}\n`);
    undo.push(() => unlink(config.pidfile).catch(() => undefined));

    const conmonPath = await findConmon(deps.searchPath);
    const hostProbe = probeHost();
    const [engineId, host, runtimes] = await Promise.all([
      loadEngineId(config.dataRoot),
      hostProbe,
      hostProbe.then((h) => detectRuntimes({ runtimes: config.runtimes, defaultRuntime: config.defaultRuntime }, h.cgroupMode, deps.runner, deps.searchPath)),
    ]);
    if (runtimes.runtimes.length === 0) logger.warn('no OCI runtime (runc or crun) found on PATH: containers cannot run');

    const events = new EventBus(deps.clock);
    const build = readBuildInfo();
    const [content, snapshotter, imageStore] = await Promise.all([
      LocalContentStore.open(join(config.dataRoot, 'content')),
      OverlaySnapshotter.open(join(config.dataRoot, 'overlay'), deps.runner, { maxUnpackedBytes: config.maxUnpackSize }),
      ImageStore.open(join(config.dataRoot, 'images')),
    ]);
    if (config.seccompProfile === 'unconfined') logger.warn('seccomp-profile is "unconfined": containers run without a syscall filter unless they ask for a profile');
    let containers: ContainerService | undefined;
    const containerStore = await ContainerStore.open(join(config.dataRoot, 'containers'), (id, err) =>
      logger.error({ container: id, err: (err as Error).message }, 'container record unreadable: the container is left out and its files kept'));
    const images = new ImageService({
      content,
      snapshotter,
      store: imageStore,
      clock: deps.clock,
      publish: (event) => events.publish(event),
      platform: { os: 'linux', architecture: host.goArch },
      maxUnpackedBytes: config.maxUnpackSize,
    // Containers are built after images; until then (and if there are none) nothing uses them.
      usage: { containersUsing: (id) => containers?.containersUsing(id) ?? [], chainsInUse: () => containers?.chainsInUse() ?? [] },
    });
    const nft = await findExecutable('nft', deps.searchPath);
    const upstreams = nameservers(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    const network = new NetworkService({
      statePath: join(config.dataRoot, 'network', 'state.json'),
      bridgeName: config.bridge,
      bip: config.bip,
      links: new Links(deps.runner, (await findExecutable('ip', deps.searchPath)) ?? 'ip', (await findExecutable('nsenter', deps.searchPath)) ?? 'nsenter'),
      // Each daemon's own table: the default one is "berth"; a daemon on another bridge (tests) has its own.
      firewall: new Firewall(deps.runner, nft ?? 'nft', config.bridge === 'berth0' ? 'berth' : `berth_${config.bridge.replace(/[^A-Za-z0-9_]/g, '_')}`),
      hostRoutes: async () => parseRoutes((await deps.runner.run('ip', ['-4', 'route', 'show'])).stdout),
      portFree: probePort,
      ephemeralRange: await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').then((t) => t.trim().split(/\s+/).map(Number) as [number, number], () => [32768, 60999] as [number, number]),
      nowIso: () => new Date(deps.clock.nowMs()).toISOString(),
      publish: (event) => events.publish(event),
      upstreamResolvers: () => upstreams,
      warn: (message, err) => logger.warn({ err: err.message }, message),
    });
    await mkdir(join(config.dataRoot, 'network'), { recursive: true });
    await network.load();
    const volumes = new VolumeService({
      root: join(config.dataRoot, 'volumes'),
      runner: deps.runner,
      nowIso: () => new Date(deps.clock.nowMs()).toISOString(),
      publish: (event) => events.publish(event),
      log: logger,
      usersOf: (name) => containerStore.all().filter((r) => r.mounts?.some((m) => m.Name === name)).map((r) => r.id),
      runningUsersOf: (name) => containerStore.all().filter((r) => (r.state.status === 'running' || r.state.status === 'paused') && r.mounts?.some((m) => m.Name === name)).map((r) => r.id),
    });
    await volumes.load();
    const monitor = new ConmonMonitor(conmonPath, deps.runner);
    const socatPath = await findExecutable('socat', deps.searchPath);
    containers = new ContainerService({
      store: containerStore,
      images,
      snapshotter,
      monitor,
      runtimes,
      runner: deps.runner,
      clock: deps.clock,
      publish: (event) => events.publish(event),
      execRoot: config.execRoot,
      heldCapabilities: await ownCapabilities(),
      cgroupParent: config.cgroupParent.startsWith('/') ? config.cgroupParent : `/${config.cgroupParent}`,
      seccompProfile: config.seccompProfile,
      goArch: host.goArch,
      kernelRelease: host.kernelVersion,
      cgroupnsDefault: (privileged) => (privileged && host.cgroupMode !== 'unified' ? 'host' : (config.defaultCgroupnsMode ?? (host.cgroupMode === 'unified' ? 'private' : 'host'))),
      initBinary: await findExecutable('tini-static', deps.searchPath),
      socatPath,
      hostResolvConf: await readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
      network,
      hostHostname: hostname(),
      volumes,
      stats: new ContainerStatsReader('/sys/fs/cgroup', host.cgroupMode === 'unified'),
    });
    await images.start();
    for (const repair of images.repairs) logger.warn(repair);
    for (const digest of content.removedAtOpen) logger.warn({ digest }, 'a blob written before the last stop did not match its digest: removed');
    await containers.restore();
    await network.reconcile(new Set(containers.list().filter((c) => c.state.status === 'running' || c.state.status === 'paused').map((c) => c.id)));
    await containers.startWithDaemon();
    undo.push(() => network.shutdown().catch((err: Error) => logger.warn({ err: err.message }, 'could not remove the bridge and firewall table')));
    const containerService = containers;
    const networkViewOf = (record: ContainerRecord): NetworkView | undefined => {
      const mode = networkModeOf(record.hostConfig);
      if (mode.kind === 'container') return undefined;
      if (mode.kind !== 'network') {
        const predefined = network.networks().find((n) => n.name === mode.kind);
        return { networks: predefined ? [{ name: predefined.name, id: predefined.id }] : [] };
      }
      const names = [mode.name, ...Object.keys(record.networks ?? {}).filter((n) => n !== mode.name)];
      const endpoints = network.endpointsOf(record.id);
      const networks = names.flatMap((name) => {
        try {
          const n = network.resolve(name);
          return [{ name: n.name, id: n.id, endpoint: endpoints.find((e) => e.networkId === n.id) }];
        } catch {
          return []; // removed since
        }
      });
      // Joined at run time through connect: listed after the configured ones.
      for (const e of endpoints) if (!networks.some((n) => n.id === e.networkId)) {
        const n = network.networks().find((x) => x.id === e.networkId);
        if (n) networks.push({ name: n.name, id: n.id, endpoint: e });
      }
      return { networks, sandboxKey: network.sandboxPathOf(record.id) };
    };
    const imageExposedOf = (record: ContainerRecord): Record<string, unknown> => {
      try {
        return ((images.inspect(record.imageId).Config as { ExposedPorts?: Record<string, unknown> } | undefined)?.ExposedPorts) ?? {};
      } catch {
        return {};
      }
    };
    const containerArchive = new ContainerArchive({
      open: (term) => containerService.openFilesystem(term),
      freeze: (id) => containerService.holdFrozen(id),
      userOwner: async ({ record, fs }) => {
        const user = record.config.User || ((images.inspect(record.imageId).Config as { User?: string } | undefined)?.User ?? '');
        if (!user) return undefined;
        const resolved = await resolveUser(fs.root, user);
        return { uid: resolved.uid, gid: resolved.gid };
      },
      publish: (event) => events.publish(event),
    });
    const execs = new ExecService(containerService, (event) => events.publish(event), await ownCapabilities(), { monitor, socatPath });
    const distribution = new DistributionService({
      images,
      content,
      snapshotter,
      clock: deps.clock,
      publish: (event) => events.publish(event),
      platform: { os: 'linux', architecture: host.goArch },
      stateDir: join(config.dataRoot, 'distribution'),
      userAgent: `berth/${readBuildInfo().version} (linux)`,
      config: {
        insecureRegistries: config.insecureRegistries,
        mirrors: config.registryMirrors,
        maxConcurrentDownloads: config.maxConcurrentDownloads,
        maxUnpackedBytes: config.maxUnpackSize,
        maxConcurrentUploads: config.maxConcurrentUploads,
      },
    });
    await distribution.start();
    const system = new SystemService({
      build,
      host,
      runtimes,
      // No container store exists yet in this build: the container counts are truly zero.
      inventory: { containerCounts: () => containerService.counts(), imageCount: () => images.count() },
      engineId,
      dataRoot: config.dataRoot,
      debug: config.debug,
      storageDriver: 'overlayfs',
      registry: { insecureRegistries: config.insecureRegistries, mirrors: config.registryMirrors },
      initBinary: (await findExecutable('tini-static', deps.searchPath)) ? 'docker-init' : undefined,
      seccompProfile: config.seccompProfileName,
      cgroupnsPrivate: (config.defaultCgroupnsMode ?? (host.cgroupMode === 'unified' ? 'private' : 'host')) === 'private',
      labels: config.labels,
      clock: deps.clock,
      eventListeners: () => events.listenerCount,
    });

    const buildCache = await BuildService.open(join(config.dataRoot, 'builder', 'cache.json'), () => new Date(deps.clock.nowMs()).toISOString());
    images.useBuildCache(buildCache);
    undo.push(() => buildCache.save(true));
    const builds = new BuildService({
      cache: buildCache,
      images,
      tempRoot: join(config.dataRoot, 'builder', 'tmp'),
      limits: buildLimits({ maxUnpackedBytes: config.maxUnpackSize }),
      engine: {
        resolveImage: async (name, pull, registryAuth = {}) => {
          if (!pull) {
            try {
              return images.inspect(name).Id as Digest;
            } catch (err) {
              if (!(err instanceof NotFoundError)) throw err;
            }
          }
          const domain = parseNormalizedReference(name).domain;
          const auth = registryAuth[domain] ?? registryAuth[domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain];
          const resolved = await distribution.resolvePull(name, auth ? { auth } : {});
          await distribution.pull(resolved, () => undefined);
          return images.inspect(name).Id as Digest;
        },
        hostPlatform: `linux/${host.goArch}`,
        localImage: (name) => {
          try {
            return images.inspect(name).Id as Digest;
          } catch {
            return undefined;
          }
        },
        restoreCachedStep: (parent, source, options) => images.restoreCachedStep(parent, source, options),
        imageConfig: (id) => (images.imageConfig(id).config ?? {}) as ContainerConfig,
        imageExists: (id) => images.exists(id),
        imageHasLayers: (id) => (images.imageConfig(id).rootfs?.diff_ids.length ?? 0) > 0,
        buildStepImage: (parent, options) => images.buildStepImage(parent, options),
        tag: async (id, reference) => {
          const ref = parseNormalizedReference(reference);
          await images.tag(id, `${ref.domain}/${ref.path}`, ref.tag ?? 'latest');
        },
        createContainer: async (cfg, hostConfig) => (await containerService.create(undefined, cfg as ContainerConfigInput, hostConfig as HostConfigInput)).id,
        startContainer: (id) => containerService.start(id),
        waitContainer: (id) => containerService.wait(id, 'next-exit'),
        removeContainer: (id) => containerService.remove(id, { force: true, volumes: true }),
        containerLogPath: (id) => containerService.logPath(id),
        openContainerFilesystem: (id) => containerService.openFilesystem(id),
        commitContainer: (id, options) => containerService.commitBuildStep(id, options),
        resolveUser: async (rootfs, user) => {
          const resolved = await resolveUser(rootfs, user);
          return { uid: resolved.uid, gid: resolved.gid };
        },
      },
    });

    const api: Api = await buildApi(
      {
        system: {
          version: () => system.version(),
          info: () => system.info(),
          subscribeEvents: (subscription) => events.subscribe(subscription),
        },
        images,
        containers: {
          create: (name, cfg, hostConfig) => containerService.create(name, cfg, hostConfig),
          start: (name) => containerService.start(name),
          stop: (name, options) => containerService.stop(name, options),
          kill: (name, signal) => containerService.kill(name, signal),
          wait: (name, condition, signal) => containerService.wait(name, condition, signal),
          remove: (name, options) => containerService.remove(name, options),
          get: (name) => containerService.get(name),
          list: () => containerService.list(),
          inspect: (name) => {
            const record = containerService.get(name);
            return toContainerInspect(record, { mounts: mountsJson(record.mounts ?? []), logPath: containerService.logPath(record.id), rootfs: join(config.execRoot, 'containers', record.id, 'rootfs'), network: networkViewOf(record), imageExposed: imageExposedOf(record) });
          },
          summary: (record) => toContainerSummary(record, deps.clock.nowMs(), { mounts: mountsJson(record.mounts ?? []), network: networkViewOf(record), imageExposed: imageExposedOf(record) }),
          logPath: (id) => containerService.logPath(id),
          logFiles: (id) => containerService.logFiles(id),
          holdLog: (id) => containerService.holdLog(id),
          rename: (name, newName) => containerService.rename(name, newName),
          setPaused: (name, paused) => containerService.setPaused(name, paused),
          openStdin: (name) => containerService.openStdin(name),
          dropStdin: (id, relay) => containerService.dropStdin(id, relay),
          resize: (name, height, width) => containerService.resize(name, height, width),
          changes: (name) => containerService.changes(name),
          stats: (name) => containerService.stats(name),
          diskUsage: async () =>
            Promise.all(containerService.list().map(async (record) => ({
              ...toContainerSummary(record, deps.clock.nowMs(), { mounts: mountsJson(record.mounts ?? []), network: networkViewOf(record), imageExposed: imageExposedOf(record) }),
              SizeRw: await containerService.writableSize(record.id),
              SizeRootFs: (() => {
                try {
                  return (images.inspect(record.imageId).Size as number | undefined) ?? 0;
                } catch {
                  return 0; // its image is gone
                }
              })(),
            }))),
          update: (name, changes) => containerService.update(name, changes),
          export: (name) => containerService.export(name),
          prune: (filters) => containerService.prune(filters),
          commit: (name, options) => containerService.commit(name, options),
          top: (name, psArgs) => containerService.top(name, psArgs),
          statPath: (name, path) => containerArchive.stat(name, path),
          archivePath: (name, path) => containerArchive.get(name, path),
          extractToDir: (name, path, body, options) => containerArchive.put(name, path, body, options),
        },
        execs,
        volumes: {
          list: () => volumes.list().map((v) => volumeJson(v, volumes.mountpoint(v.name))),
          inspect: (name) => volumeJson(volumes.get(name), volumes.mountpoint(name)),
          create: async (request) => {
            const v = await volumes.create(request);
            return volumeJson(v, volumes.mountpoint(v.name));
          },
          remove: (name, options) => volumes.remove(name, options),
          prune: (options) => volumes.prune(options),
          inUse: (name) => containerStore.all().some((r) => r.mounts?.some((m) => m.Name === name)),
          usage: async () =>
            Promise.all(volumes.list().map(async (v) => ({
              ...volumeJson(v, volumes.mountpoint(v.name)),
              UsageData: { Size: await volumes.size(v.name), RefCount: containerStore.all().filter((r) => r.mounts?.some((m) => m.Name === v.name)).length },
            }))),
        },
        networks: {
          list: () => network.networks().map((n) => toNetworkJson(n, undefined, () => '')),
          inspect: (term) => {
            const n = network.resolve(term);
            return toNetworkJson(n, network.endpointsOn(n.id), (id) => {
              try {
                return containerService.get(id).name;
              } catch {
                return '';
              }
            });
          },
          create: async (body) => {
            const ipam = body.IPAM?.Config?.[0];
            const created = await network.createNetwork({
              name: body.Name!,
              driver: body.Driver,
              subnet: ipam?.Subnet,
              gateway: ipam?.Gateway,
              ipRange: ipam?.IPRange,
              internal: body.Internal,
              attachable: body.Attachable,
              labels: body.Labels ?? {},
              options: body.Options ?? {},
            });
            return { id: created.id };
          },
          remove: (term) => network.removeNetwork(term),
          connect: (net, container, settings) => containerService.connectNetwork(container, net, settings),
          disconnect: (net, container) => containerService.disconnectNetwork(container, net),
          prune: (labels) => network.prune((n) => !matchesLabelFilters(n.labels, labels)),
        },
        builds: {
          prepare: (context, options) => builds.prepare(context, options),
          prune: (options) => builds.prune(options),
          diskUsage: () => builds.diskUsage(),
        },
        distribution: {
          preparePull: async (name, options) => {
            const resolved = await distribution.resolvePull(name, options);
            return { run: (progress) => distribution.pull(resolved, progress) };
          },
          preparePush: (name, options) => {
            const targets = distribution.pushTargets(name, options.tag);
            return { run: (progress) => distribution.push(targets, { auth: options.auth }, progress) };
          },
          login: (auth) => distribution.login(auth),
        },
      },
      { logger, serverHeader: `Berth/${build.version} (linux)` },
    );
    undo.push(() => api.close());

    const groupId = await lookupGroupId(config.group);
    if (groupId === undefined) {
      if (config.groupExplicit) throw new InvalidArgumentError(`group ${config.group} not found: create it or pass --group with an existing group`);
      logger.debug({ group: config.group }, 'socket group not found; the socket stays root-only');
    }
    for (const address of config.hosts) {
      const server = api.createHttpServer(address.kind === 'tcp' ? config.tls : undefined);
      await listen(server, address, groupId);
      if (address.kind === 'unix') undo.push(() => unlink(address.path).catch(() => undefined));
      logger.info({ address: address.url, tls: address.kind === 'tcp' && config.tls ? (config.tls.verify ? 'verify' : 'server-only') : undefined }, 'API listen on %s', address.url);
    }

    logger.info({ dataRoot: config.dataRoot, execRoot: config.execRoot, runtime: runtimes.defaultRuntime, cgroup: host.cgroupMode }, 'berthd ready');
    return { events, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
