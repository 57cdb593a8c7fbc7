/**
 * Answers shaped by the API version in the request path, as moby's routers shape them: every
 * field that moby's api/docs/CHANGELOG.md says appeared, disappeared or changed its value between
 * 1.24 and the newest version berthd speaks. Services build one "full" answer (the newest shape
 * plus the data only older versions show); this table turns it into the requested version's.
 */
import { compareApiVersions } from './api-version.js';

type Json = Record<string, unknown>;

export interface VersionedChange {
  /** The answers it applies to: method and path without the /vX.YY prefix. */
  method: string;
  path: RegExp;
  /** The API version that made the change. */
  version: string;
  /** The changelog's words, for the reader and for the report of what berth follows. */
  change: string;
  /** Applied to each answer object when the request asks for a version below `version`. */
  before?: (body: Json) => void;
  /** Applied when the request asks for `version` or newer. */
  since?: (body: Json) => void;
}

const IMAGE_INSPECT = /^\/images\/.+\/json$/;
const IMAGE_LIST = /^\/images\/json$/;
const SYSTEM_DF = /^\/system\/df$/;
const INFO = /^\/info$/;
const CONTAINER_INSPECT = /^\/containers\/[^/]+\/json$/;
const CONTAINER_LIST = /^\/containers\/json$/;

/** The image Config fields that are container settings, not image settings (moby #48457). */
const CONTAINER_ONLY_CONFIG_FIELDS: Json = {
  Hostname: '',
  Domainname: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Image: '',
};

/** Docker's zero container.Config, what ContainerConfig reads for an image no container made. */
export const EMPTY_CONTAINER_CONFIG: Json = {
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: null,
  Image: '',
  Volumes: null,
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: null,
};

const omit =
  (...fields: string[]) =>
  (body: Json): void => {
    for (const field of fields) delete body[field];
  };

const objectAt = (body: Json, field: string): Json | undefined => {
  const value = body[field];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
};

const virtualSize = (body: Json): void => {
  body['VirtualSize'] = body['Size'];
};

const eachOf =
  (field: string, apply: (item: Json) => void) =>
  (body: Json): void => {
    const items = body[field];
    if (Array.isArray(items)) for (const item of items) if (item && typeof item === 'object') apply(item as Json);
  };

/** The changes, oldest version first; each one's `before` undoes it for older clients. */
export const VERSIONED_CHANGES: readonly VersionedChange[] = [
  {
    method: 'GET',
    path: SYSTEM_DF,
    version: '1.42',
    change: 'BuildCache.Parent is omitted; BuildCache.Parents is new',
    before: eachOf('BuildCache', omit('Parents')),
    since: eachOf('BuildCache', omit('Parent')),
  },
  {
    method: 'GET',
    path: IMAGE_LIST,
    version: '1.43',
    change: 'untagged images no longer carry <none>:<none> and <none>@<none>',
    before: (image) => {
      const tags = image['RepoTags'];
      const digests = image['RepoDigests'];
      if (Array.isArray(tags) && tags.length === 0 && Array.isArray(digests) && digests.length === 0) {
        image['RepoTags'] = ['<none>:<none>'];
        image['RepoDigests'] = ['<none>@<none>'];
      }
    },
  },
  { method: 'GET', path: IMAGE_LIST, version: '1.44', change: 'VirtualSize is omitted (use Size)', before: virtualSize },
  { method: 'GET', path: IMAGE_INSPECT, version: '1.44', change: 'VirtualSize is omitted (use Size)', before: virtualSize },
  { method: 'GET', path: SYSTEM_DF, version: '1.44', change: 'Images[].VirtualSize is omitted (use Size)', before: eachOf('Images', virtualSize) },
  {
    method: 'GET',
    path: IMAGE_INSPECT,
    version: '1.44',
    change: 'Created is omitted when the image config has none (was 0001-01-01T00:00:00Z)',
    before: (image) => {
      if (!image['Created']) image['Created'] = '0001-01-01T00:00:00Z';
    },
    since: (image) => {
      if (!image['Created']) delete image['Created'];
    },
  },
  {
    method: 'GET',
    path: INFO,
    version: '1.44',
    change: 'Runtimes carry a status',
    before: (info) => {
      const runtimes = objectAt(info, 'Runtimes');
      for (const runtime of Object.values(runtimes ?? {})) if (runtime && typeof runtime === 'object') delete (runtime as Json)['status'];
    },
  },
  {
    method: 'GET',
    path: IMAGE_INSPECT,
    version: '1.45',
    change: 'Container and ContainerConfig are omitted (use Config)',
    before: (image) => {
      image['Container'] ??= '';
      image['ContainerConfig'] ??= { ...EMPTY_CONTAINER_CONFIG };
    },
    since: omit('Container', 'ContainerConfig'),
  },
  {
    method: 'GET',
    path: CONTAINER_INSPECT,
    version: '1.45',
    change: 'Aliases hold only the aliases the client gave (the short ID and hostname moved to DNSNames)',
    before: (container) => {
      const id = typeof container['Id'] === 'string' ? container['Id'].slice(0, 12) : '';
      const hostname = objectAt(container, 'Config')?.['Hostname'];
      const networks = objectAt(objectAt(container, 'NetworkSettings') ?? {}, 'Networks') ?? {};
      for (const [name, endpoint] of Object.entries(networks)) {
        if (['bridge', 'host', 'none', 'default'].includes(name) || name.startsWith('container:')) continue;
        if (!endpoint || typeof endpoint !== 'object') continue;
        const settings = endpoint as Json;
        const given = Array.isArray(settings['Aliases']) ? (settings['Aliases'] as string[]) : [];
        settings['Aliases'] = [...new Set([...given, id, ...(typeof hostname === 'string' && hostname ? [hostname] : [])])].filter(Boolean);
      }
    },
  },
  {
    method: 'GET',
    path: CONTAINER_LIST,
    version: '1.46',
    change: 'HostConfig.Annotations is new',
    before: (container) => {
      const hostConfig = objectAt(container, 'HostConfig');
      if (hostConfig) delete hostConfig['Annotations'];
    },
  },
  {
    method: 'GET',
    path: INFO,
    version: '1.46',
    change: 'Containerd is new',
    before: omit('Containerd'),
  },
  {
    method: 'GET',
    path: INFO,
    version: '1.47',
    change: 'RegistryConfig.AllowNondistributableArtifactsCIDRs/Hostnames are omitted',
    before: (info) => {
      const registry = objectAt(info, 'RegistryConfig');
      if (!registry) return;
      registry['AllowNondistributableArtifactsCIDRs'] ??= null;
      registry['AllowNondistributableArtifactsHostnames'] ??= null;
    },
  },
  { method: 'GET', path: IMAGE_INSPECT, version: '1.48', change: 'Descriptor is new', before: omit('Descriptor') },
  { method: 'GET', path: IMAGE_LIST, version: '1.48', change: 'Descriptor is new', before: omit('Descriptor') },
  { method: 'GET', path: SYSTEM_DF, version: '1.48', change: 'Images[].Descriptor is new', before: eachOf('Images', omit('Descriptor')) },
  { method: 'GET', path: CONTAINER_INSPECT, version: '1.48', change: 'ImageManifestDescriptor is new', before: omit('ImageManifestDescriptor') },
  { method: 'GET', path: CONTAINER_LIST, version: '1.48', change: 'ImageManifestDescriptor is new', before: omit('ImageManifestDescriptor') },
  {
    method: 'GET',
    path: INFO,
    version: '1.49',
    change: 'FirewallBackend is new; ContainerdCommit/RuncCommit/InitCommit.Expected are omitted',
    before: (info) => {
      delete info['FirewallBackend'];
      for (const field of ['ContainerdCommit', 'RuncCommit', 'InitCommit']) {
        const commit = objectAt(info, field);
        if (commit) commit['Expected'] = commit['ID'] ?? '';
      }
    },
  },
  {
    method: 'GET',
    path: INFO,
    version: '1.50',
    change: 'DiscoveredDevices is new; BridgeNfIptables and BridgeNfIp6tables are omitted',
    before: (info) => {
      delete info['DiscoveredDevices'];
      info['BridgeNfIptables'] = false;
      info['BridgeNfIp6tables'] = false;
    },
  },
  {
    method: 'GET',
    path: IMAGE_INSPECT,
    version: '1.50',
    change: 'Config no longer carries the container-only Hostname, Domainname, Attach*, Tty, OpenStdin, StdinOnce, Image',
    before: (image) => {
      const config = objectAt(image, 'Config');
      if (config) image['Config'] = { ...CONTAINER_ONLY_CONFIG_FIELDS, ...config };
    },
    since: (image) => {
      const config = objectAt(image, 'Config');
      if (config) for (const field of Object.keys(CONTAINER_ONLY_CONFIG_FIELDS)) delete config[field];
    },
  },
  {
    method: 'GET',
    path: IMAGE_LIST,
    version: '1.51',
    change: 'Containers counts the containers using the image (was -1)',
    before: (image) => {
      image['Containers'] = -1;
    },
  },
];

/** The answer of `method path` as a client of API `version` expects it; the payload is changed in place. */
export function shapeForVersion(method: string, path: string, version: string, payload: unknown, changes: readonly VersionedChange[] = VERSIONED_CHANGES): unknown {
  const applicable = changes.filter((c) => c.method === method && c.path.test(path));
  if (applicable.length === 0 || payload === null || typeof payload !== 'object') return payload;
  const bodies = (Array.isArray(payload) ? payload : [payload]).filter((b): b is Json => b !== null && typeof b === 'object');
  // Newest first, so each `before` sees the answer of the version just after it, as moby's are layered.
  for (const change of [...applicable].sort((a, b) => compareApiVersions(b.version, a.version))) {
    const older = compareApiVersions(version, change.version) < 0;
    const apply = older ? change.before : change.since;
    if (apply) for (const body of bodies) apply(body);
  }
  return payload;
}

export type StreamContentType = 'application/vnd.docker.raw-stream' | 'application/vnd.docker.multiplexed-stream';

/**
 * The Content-Type of a logs, attach or exec stream: from API 1.42 a multiplexed (non-TTY) stream
 * says so; older clients were always told raw-stream.
 */
export function streamContentType(version: string, multiplexed: boolean): StreamContentType {
  return multiplexed && compareApiVersions(version, '1.42') >= 0 ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
}
