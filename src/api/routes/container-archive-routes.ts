/** /containers/{id}/archive: docker cp's stat (HEAD), copy out (GET) and copy in (PUT). */
import type { ApiRequest, Router } from '../router.js';
import type { ApiReply } from '../api-reply.js';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable as ReadableStream } from 'node:stream';
import { InvalidArgumentError } from '../../lib/errors.js';
import { boolParam, singleParam } from '../query.js';
import { encodePathStat } from '../../archive/go-file-mode.js';
import type { ContainerBackend } from './container-backend.js';

type Query = Record<string, string | string[] | undefined>;
type ArchiveRequest = ApiRequest<{ id: string }>;

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathParam(query: Query): string {
  const path = singleParam(query['path']);
  if (!path) throw new InvalidArgumentError('path cannot be empty');
  return path;
}

export function registerContainerArchiveRoutes(app: Router, containers: ContainerBackend): void {
  app.head('/containers/:id/archive', async (req: ArchiveRequest, reply: ApiReply) => {
    const stat = await containers.statPath(req.params.id, pathParam(req.query));
    return reply.code(200).header(STAT_HEADER, encodePathStat(stat)).header('Content-Type', 'application/json').send();
  });

  app.get('/containers/:id/archive', async (req: ArchiveRequest, reply: ApiReply) => {
    const archive = await containers.archivePath(req.params.id, pathParam(req.query));
    // done() releases the filesystem and thaws a running container: it runs whatever happens here.
    try {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'Content-Type': 'application/x-tar', [STAT_HEADER]: encodePathStat(archive.stat) });
      await pipeline(ReadableStream.from(archive.stream), res).catch(() => {
        res.destroy(); // the client went away or the copy failed midway: the tar is cut short
      });
    } finally {
      await archive.done();
    }
  });

  app.put('/containers/:id/archive', async (req: ArchiveRequest, reply: ApiReply) => {
    await containers.extractToDir(req.params.id, pathParam(req.query), req.raw as Readable, {
      noOverwriteDirNonDir: boolParam(req.query['noOverwriteDirNonDir']),
      copyUIDGID: boolParam(req.query['copyUIDGID']),
    });
    return reply.code(200).send();
  });
}
