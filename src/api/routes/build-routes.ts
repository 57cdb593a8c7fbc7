/** POST /build (the classic builder's protocol) and POST /build/prune. */
import type { ApiRequest, Router } from '../router.js';
import type { ApiReply } from '../api-reply.js';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotImplementedError } from '../../lib/errors.js';
import { boolParam, singleParam } from '../query.js';
import { openJsonStream } from '../json-stream.js';
import { toHttpError } from '../http-errors.js';
import { BuildStepFailedError, type BuildOptions, type BuildOutput } from '../../build/image-builder.js';
import type { Digest } from '../../content/digest.js';
import type { AuthConfig } from '../../distribution/index.js';

type Query = Record<string, string | string[] | undefined>;

export interface BuildBackend {
  /** Unpacks the context and parses the Dockerfile (errors are HTTP errors); run streams the build. */
  prepare(context: Readable, options: Omit<BuildOptions, 'contextDir'>): Promise<{ run(out: BuildOutput): Promise<Digest> }>;
  prune(options: { all: boolean }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;
}

function jsonParam<T>(name: string, raw: unknown, fallback: T): T {
  const text = singleParam(raw);
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new InvalidArgumentError(`invalid ${name}: ${text} is not valid JSON`);
  }
}

function numberParam(name: string, raw: unknown): number | undefined {
  const text = singleParam(raw);
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError(`invalid ${name}: ${text}`);
  return Number(text);
}

/** X-Registry-Config: base64url JSON of registry -> credentials, for FROM pulls. */
function registryConfig(header: string | string[] | undefined): Record<string, AuthConfig> {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return {};
  try {
    return JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Record<string, AuthConfig>;
  } catch {
    return {};
  }
}

export function registerBuildRoutes(app: Router, builds: BuildBackend): void {
  app.post('/build', async (req: ApiRequest, reply: ApiReply) => {
    const q = req.query;
    if (singleParam(q['remote'])) throw new NotImplementedError('building from a remote context (remote=) is not supported yet: send the context as a tar');
    const tags = (Array.isArray(q['t']) ? q['t'] : q['t'] ? [q['t']] : []).filter(Boolean);
    const extraHosts = singleParam(q['extrahosts']);
    const options: Omit<BuildOptions, 'contextDir'> = {
      dockerfile: singleParam(q['dockerfile']) || 'Dockerfile',
      tags,
      buildArgs: jsonParam<Record<string, string | null>>('buildargs', q['buildargs'], {}),
      ...(singleParam(q['target']) ? { target: singleParam(q['target'])! } : {}),
      noCache: boolParam(q['nocache']),
      pull: boolParam(q['pull']),
      remove: singleParam(q['rm']) === undefined ? true : boolParam(q['rm']),
      forceRemove: boolParam(q['forcerm']),
      labels: jsonParam<Record<string, string>>('labels', q['labels'], {}),
      ...(singleParam(q['networkmode']) ? { networkMode: singleParam(q['networkmode'])! } : {}),
      ...(numberParam('shmsize', q['shmsize']) ? { shmSize: numberParam('shmsize', q['shmsize'])! } : {}),
      ...(numberParam('memory', q['memory']) ? { memory: numberParam('memory', q['memory'])! } : {}),
      ...(numberParam('cpuquota', q['cpuquota']) ? { cpuQuota: numberParam('cpuquota', q['cpuquota'])! } : {}),
      ...(extraHosts ? { extraHosts: extraHosts.split(/[,\s]+/).filter(Boolean) } : {}),
      cacheFrom: jsonParam<string[]>('cachefrom', q['cachefrom'], []),
      registryAuth: registryConfig(req.headers['x-registry-config']),
      ...(singleParam(q['platform']) ? { platform: singleParam(q['platform'])! } : {}),
    };
    const quiet = boolParam(q['q']);
    const prepared = await builds.prepare(req.raw, options);
    const stream = openJsonStream(reply);
    const pending: Promise<void>[] = [];
    const send = (message: unknown) => void pending.push(stream.write(JSON.stringify(message)));
    const out: BuildOutput = {
      stream: (text) => {
        if (!quiet) send({ stream: text });
      },
      aux: (value) => send({ aux: value }),
    };
    try {
      const id = await prepared.run(out);
      if (quiet) send({ stream: `${id}\n` });
    } catch (err) {
      const { status, message } = toHttpError(err);
      if (status >= 500) reply.log.error({ err }, 'build failed');
      const code = err instanceof BuildStepFailedError ? err.exitCode : 1;
      send({ errorDetail: { code, message }, error: message });
    } finally {
      await Promise.all(pending);
      stream.end();
    }
  });

  app.post('/build/prune', async (req: ApiRequest) => {
    return builds.prune({ all: boolParam(req.query['all']) });
  });
}
