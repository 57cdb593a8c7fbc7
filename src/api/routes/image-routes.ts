/** /images/... and /system/df (images and volumes). Image names contain "/" and ":", so the
 * per-image routes match the suffix from the right. */
import type { VolumeBackend } from './volume-backend.js';
import type { ApiRequest, Router } from '../router.js';
import type { ApiReply } from '../api-reply.js';
import { InvalidArgumentError, NotFoundError, NotImplementedError } from '../../lib/errors.js';
import { boolParam, filtersParam, singleParam } from '../query.js';
import { withProgressStream } from '../progress-stream.js';
import type { ImageBackend } from './image-backend.js';
import type { DistributionBackend } from './distribution-backend.js';
import { decodeRegistryAuth, type AuthConfig } from '../../distribution/index.js';

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

type Query = Record<string, string | string[] | undefined>;

function listParam(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return value === undefined ? [] : [String(value)];
}

async function sendTar(reply: ApiReply, chunks: AsyncGenerator<Buffer>): Promise<void> {
  // Pull the first chunk before answering, so an error still becomes a proper HTTP status.
  const first = await chunks.next();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  let aborted = false;
  res.on('close', () => (aborted = true));
  try {
    if (!first.done) res.write(first.value);
    for await (const chunk of chunks) {
      if (aborted) break;
      if (!res.write(chunk)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    }
    res.end();
  } catch (err) {
    reply.log.error({ err }, 'image export failed midway');
    res.destroy(err as Error);
  }
}

export function registerImageRoutes(app: Router, images: ImageBackend, distribution?: DistributionBackend, volumes?: VolumeBackend, containersUsage?: () => Promise<Record<string, unknown>[]>, buildCacheUsage?: () => unknown[]): void {
  app.post('/images/create', async (req: ApiRequest, reply) => {
    const q = req.query;
    const fromImage = singleParam(q['fromImage']);
    const fromSrc = singleParam(q['fromSrc']);
    if (fromImage) {
      if (!distribution) throw new NotImplementedError('pulling images is not available in this engine');
      const plan = await distribution.preparePull(fromImage, {
        tag: singleParam(q['tag']),
        platform: singleParam(q['platform']),
        auth: decodeRegistryAuth(singleHeader(req.headers['x-registry-auth'])),
      });
      await withProgressStream(reply, async (out) => {
        const pending: Promise<void>[] = [];
        await plan.run((message) => void pending.push(out.send(message as Record<string, unknown>)));
        await Promise.all(pending);
      });
      return;
    }
    if (!fromSrc) throw new InvalidArgumentError('fromImage or fromSrc is required');
    if (fromSrc !== '-') throw new NotImplementedError(`importing from a URL (${fromSrc}) is not supported yet; download it and import the file`);
    const repo = singleParam(q['repo']);
    const tag = singleParam(q['tag']);
    images.checkImportTarget(repo, tag);
    await withProgressStream(reply, async (out) => {
      const id = await images.importImage(req.raw, {
        repo,
        tag,
        message: singleParam(q['message']),
        changes: listParam(q['changes']),
        source: '-',
      });
      await out.send({ status: id });
    });
  });

  app.post('/images/load', async (req: ApiRequest, reply) => {
    await withProgressStream(reply, async (out) => {
      for (const image of await images.load(req.raw)) {
        if (image.tags.length === 0) await out.send({ stream: `Loaded image ID: ${image.id}\n` });
        for (const tag of image.tags) await out.send({ stream: `Loaded image: ${tag}\n` });
      }
    });
  });

  app.get('/images/get', async (req: ApiRequest, reply) => {
    const names = listParam(req.query['names']);
    if (names.length === 0) throw new InvalidArgumentError('no images given: pass names=');
    await sendTar(reply, images.save(names));
  });

  app.get('/images/json', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], ['dangling', 'label', 'reference', 'before', 'since', 'until']);
    return images.list({ filters, sharedSize: boolParam(req.query['shared-size']), all: boolParam(req.query['all']) });
  });

  app.post('/images/prune', async (req: ApiRequest) => {
    return images.prune(filtersParam(req.query['filters'], ['dangling', 'label', 'label!', 'until']));
  });

  app.get('/images/*', async (req: ApiRequest<{ '*': string }>, reply) => {
    const rest = req.params['*'];
    const suffix = /^(.+)\/(json|history|get)$/.exec(rest);
    if (!suffix) throw new NotFoundError('page not found');
    const [, name, action] = suffix;
    if (action === 'json') return images.inspect(name!);
    if (action === 'history') return images.history(name!);
    await sendTar(reply, images.save([name!]));
    return reply;
  });

  app.post('/images/*', async (req: ApiRequest<{ '*': string }>, reply) => {
    const rest = req.params['*'];
    const tag = /^(.+)\/tag$/.exec(rest);
    if (tag) {
      const repo = singleParam(req.query['repo']);
      if (!repo) throw new InvalidArgumentError('repository name must have at least one component');
      await images.tag(tag[1]!, repo, singleParam(req.query['tag']));
      return reply.code(201).send();
    }
    const push = /^(.+)\/push$/.exec(rest);
    if (push) {
      if (!distribution) throw new NotImplementedError('pushing images is not available in this engine');
      const plan = distribution.preparePush(push[1]!, { tag: singleParam(req.query['tag']), auth: decodeRegistryAuth(singleHeader(req.headers['x-registry-auth'])) });
      await withProgressStream(reply, async (out) => {
        const pending: Promise<void>[] = [];
        await plan.run((message) => void pending.push(out.send(message as Record<string, unknown>)));
        await Promise.all(pending);
      });
      return reply;
    }
    throw new NotFoundError('page not found');
  });

  app.delete('/images/*', async (req: ApiRequest<{ '*': string }>) => {
    return images.remove(req.params['*'], { force: boolParam(req.query['force']) });
  });

  app.post('/auth', async (req) => {
    if (!distribution) throw new NotImplementedError('registry login is not available in this engine');
    const body = (req.body ?? {}) as AuthConfig;
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('the body must be a JSON object with username, password and serveraddress');
    return distribution.login(body);
  });

  app.get('/system/df', async () => {
    const usage = images.diskUsage();
    return { LayersSize: usage.LayersSize, Images: usage.Images, Containers: containersUsage ? await containersUsage() : [], Volumes: volumes ? await volumes.usage() : [], BuildCache: buildCacheUsage ? buildCacheUsage() : [] };
  });
}
