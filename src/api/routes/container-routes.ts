/** /containers/...: create, start, stop, kill, restart, wait, remove, list, inspect, logs, attach. */
import { matchesLabelFilters } from '../../lib/label-filter.js';
import type { ApiRequest, Router } from '../router.js';
import type { ApiReply } from '../api-reply.js';
import { InvalidArgumentError, NotModifiedError } from '../../lib/errors.js';
import { boolParam, filtersParam, intParam, singleParam, timestampParam } from '../query.js';
import { openJsonStream } from '../json-stream.js';
import type { HijackRouter } from '../hijack.js';
import { followLog, logSize } from '../../logs/log-follow.js';
import { encodeRecords, lastLines, selectRecords } from '../../logs/log-encode.js';
import type { LogRecord } from '../../logs/k8s-file.js';
import type { ContainerConfigInput, HostConfigInput } from '../../containers/container-record.js';
import type { WaitCondition } from '../../containers/container-service.js';
import type { ContainerBackend } from './container-backend.js';
import { registerContainerArchiveRoutes } from './container-archive-routes.js';
import { CONTAINER_STATUSES, isListedWithoutAll } from '../../containers/container-status.js';
import { DEFAULT_DETACH_KEYS, DetachKeyScanner, parseDetachKeys } from '../../containers/detach-keys.js';
import { streamContentType } from '../versioned-responses.js';

type Query = Record<string, string | string[] | undefined>;
type IdRequest = ApiRequest<{ id: string }>;

const LIST_FILTERS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'volume', 'expose', 'publish', 'network', 'health', 'is-task'];

/** since/until for logs: Unix seconds, where 0 (as the CLI sends by default) means no bound. */
function secondsParam(name: string, raw: unknown): number | undefined {
  const ns = timestampParam(name, raw);
  return ns === undefined || ns === 0n ? undefined : Number(ns) / 1e9;
}

export function registerContainerRoutes(app: Router, hijack: HijackRouter, containers: ContainerBackend): void {
  registerContainerArchiveRoutes(app, containers);
  app.post('/containers/create', async (req: ApiRequest, reply) => {
    const body = req.body as (ContainerConfigInput & { HostConfig?: HostConfigInput }) | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('config cannot be empty in order to create a container');
    const { HostConfig, ...config } = body;
    const created = await containers.create(singleParam(req.query['name']) || undefined, config, HostConfig ?? {});
    return reply.code(201).send({ Id: created.id, Warnings: created.warnings });
  });

  app.post('/containers/:id/start', async (req: IdRequest, reply) => {
    await containers.start(req.params.id);
    return reply.code(204).send();
  });

  app.post('/containers/:id/stop', async (req: IdRequest, reply) => {
    const t = singleParam(req.query['t']);
    await containers.stop(req.params.id, { timeoutSeconds: t === undefined ? undefined : intParam('t', t, 10), signal: singleParam(req.query['signal']) });
    return reply.code(204).send();
  });

  app.post('/containers/:id/restart', async (req: IdRequest, reply) => {
    const t = singleParam(req.query['t']);
    try {
      await containers.stop(req.params.id, { timeoutSeconds: t === undefined ? undefined : intParam('t', t, 10), signal: singleParam(req.query['signal']) });
    } catch (err) {
      if (!(err instanceof NotModifiedError)) throw err;
    }
    await containers.start(req.params.id);
    return reply.code(204).send();
  });

  app.post('/containers/:id/kill', async (req: IdRequest, reply) => {
    await containers.kill(req.params.id, singleParam(req.query['signal']));
    return reply.code(204).send();
  });

  app.post('/containers/:id/rename', async (req: IdRequest, reply) => {
    const name = singleParam(req.query['name']);
    if (!name) throw new InvalidArgumentError('name is required');
    await containers.rename(req.params.id, name);
    return reply.code(204).send();
  });

  app.post('/containers/:id/pause', async (req: IdRequest, reply) => {
    await containers.setPaused(req.params.id, true);
    return reply.code(204).send();
  });

  app.post('/containers/:id/unpause', async (req: IdRequest, reply) => {
    await containers.setPaused(req.params.id, false);
    return reply.code(204).send();
  });

  app.post('/containers/:id/wait', async (req: IdRequest, reply) => {
    const condition = (singleParam(req.query['condition']) || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new InvalidArgumentError(`invalid condition: "${condition}"`);
    containers.get(req.params.id); // 404 before the stream starts
    const stream = openJsonStream(reply);
    // The client closing the connection cancels the wait, as Docker's request context does.
    const waiting = containers.wait(req.params.id, condition, stream.signal);
    try {
      const code = await waiting;
      await stream.write(JSON.stringify({ StatusCode: code, Error: null }));
    } catch (err) {
      await stream.write(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }));
    } finally {
      stream.end();
    }
  });

  app.delete('/containers/:id', async (req: IdRequest, reply) => {
    await containers.remove(req.params.id, { force: boolParam(req.query['force']), volumes: boolParam(req.query['v']) });
    return reply.code(204).send();
  });

  app.get('/containers/json', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], LIST_FILTERS);
    const all = boolParam(req.query['all']);
    const limit = intParam('limit', singleParam(req.query['limit']), -1);
    let records = containers.list().sort((a, b) => (a.created < b.created ? 1 : -1));
    const statuses = filters.get('status');
    for (const status of statuses ?? []) if (!(CONTAINER_STATUSES as readonly string[]).includes(status)) throw new InvalidArgumentError(`invalid filter 'status=${status}'`);
    // As moby: a status filter implies --all; paused and restarting containers count as running.
    if (!all && !statuses && limit <= 0) records = records.filter((r) => isListedWithoutAll(r.state.status));
    if (statuses) records = records.filter((r) => statuses.includes(r.state.status));
    const names = filters.get('name');
    if (names) records = records.filter((r) => names.some((n) => r.name.includes(n.replace(/^\//, ''))));
    const ids = filters.get('id');
    if (ids) records = records.filter((r) => ids.some((id) => r.id.startsWith(id)));
    const exited = filters.get('exited');
    for (const code of exited ?? []) if (!/^-?\d+$/.test(code)) throw new InvalidArgumentError(`invalid filter 'exited=${code}': strconv.Atoi: parsing ${JSON.stringify(code)}: invalid syntax`);
    if (exited) records = records.filter((r) => r.state.status === 'exited' && exited.some((code) => Number(code) === r.state.exitCode));
    const labels = filters.get('label');
    if (labels) records = records.filter((r) => matchesLabelFilters(r.config.Labels ?? {}, labels));
    const health = filters.get('health');
    if (health) {
      for (const h of health) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw new InvalidArgumentError(`Unrecognised filter value for health: ${h}`);
      records = records.filter((r) => health.includes(r.state.health?.Status ?? 'none'));
    }
    const ancestors = filters.get('ancestor');
    if (ancestors) records = records.filter((r) => ancestors.some((a) => r.imageName === a || r.imageId === a || r.imageId.replace('sha256:', '').startsWith(a)));
    if (limit > 0) records = records.slice(0, limit);
    return records.map((r) => containers.summary(r));
  });

  app.get('/containers/:id/json', async (req: IdRequest) => containers.inspect(req.params.id));

  app.post('/commit', async (req: ApiRequest, reply) => {
    const container = singleParam(req.query['container']);
    if (!container) throw new InvalidArgumentError('container is required');
    const changes = req.query['changes'];
    const pauseText = singleParam(req.query['pause']);
    const id = await containers.commit(container, {
      repo: singleParam(req.query['repo']) || undefined,
      tag: singleParam(req.query['tag']) || undefined,
      author: singleParam(req.query['author']) || undefined,
      comment: singleParam(req.query['comment']) || undefined,
      changes: (Array.isArray(changes) ? changes : changes ? [changes] : []).filter(Boolean),
      pause: pauseText === undefined || pauseText === '' ? true : boolParam(pauseText),
    });
    return reply.code(201).send({ Id: id });
  });

  app.get('/containers/:id/export', async (req: IdRequest, reply: ApiReply) => {
    const exported = await containers.export(req.params.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    res.on('close', () => void exported.done());
    exported.stream.pipe(res);
    exported.stream.on('end', () => void exported.done());
  });

  app.post('/containers/prune', async (req: ApiRequest) => {
    const filters = filtersParam(req.query['filters'], ['until', 'label', 'label!']);
    const until = filters.get('until')?.[0];
    const untilSeconds = until === undefined ? undefined : /^\d+(\.\d+)?$/.test(until) ? Number(until) : Date.parse(until) / 1000;
    if (untilSeconds !== undefined && !Number.isFinite(untilSeconds)) throw new InvalidArgumentError(`invalid filter 'until=${until}'`);
    const result = await containers.prune({ until: untilSeconds, labels: [...(filters.get('label') ?? []), ...(filters.get('label!') ?? []).map((l) => `!${l}`)] });
    return { ContainersDeleted: result.deleted, SpaceReclaimed: result.reclaimed };
  });

  app.get('/containers/:id/stats', async (req: IdRequest, reply: ApiReply) => {
    const stream = req.query['stream'] === undefined ? true : boolParam(req.query['stream']);
    const oneShot = boolParam(req.query['one-shot']);
    const first = await containers.stats(req.params.id);
    if (!stream || oneShot) return first;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let open = true;
    res.on('close', () => (open = false));
    res.write(`${JSON.stringify(first)}\n`);
    // One document a second, as Docker, until the client goes or the container is removed.
    while (open) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!open) break;
      try {
        res.write(`${JSON.stringify(await containers.stats(req.params.id))}\n`);
      } catch {
        break;
      }
    }
    res.end();
  });

  app.post('/containers/:id/update', async (req: IdRequest) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('a JSON object body is required');
    return { Warnings: await containers.update(req.params.id, body) };
  });

  app.get('/containers/:id/changes', async (req: IdRequest, reply) => {
    const changes = await containers.changes(req.params.id);
    // moby encodes its nil slice as a JSON null: a body the client decodes, never an empty one.
    return changes.length > 0 ? changes : reply.type('application/json').send('null\n');
  });

  app.get('/containers/:id/top', async (req: IdRequest) => containers.top(req.params.id, singleParam(req.query['ps_args']) ?? ''));

  app.get('/containers/:id/logs', async (req: IdRequest, reply: ApiReply) => {
    const record = containers.get(req.params.id);
    const wantOut = boolParam(req.query['stdout']);
    const wantErr = boolParam(req.query['stderr']);
    if (!wantOut && !wantErr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
    const follow = boolParam(req.query['follow']);
    const timestamps = boolParam(req.query['timestamps']);
    const tailText = singleParam(req.query['tail']) ?? 'all';
    const tail = tailText === 'all' || tailText === '' ? -1 : intParam('tail', tailText, -1);
    reply.hijack();
    const res = reply.raw;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const tty = record.config.Tty === true;
    res.writeHead(200, { 'Content-Type': streamContentType(req.apiVersion, !tty) });
    res.flushHeaders();
    const path = containers.logPath(record.id);
    const stopped = () => {
      try {
        return containers.get(record.id).state.status !== 'running';
      } catch {
        return true;
      }
    };
    const selection = { stdout: wantOut, stderr: wantErr, sinceSeconds: secondsParam('since', req.query['since']), untilSeconds: secondsParam('until', req.query['until']) };
    const encoding = { tty, timestamps };
    const send = async (records: LogRecord[]) => {
      const chosen = selectRecords(records, selection);
      if (chosen.length === 0) return;
      if (!res.write(encodeRecords(chosen, encoding))) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    };
    const release = containers.holdLog(record.id);
    // A follower of a running container ends the moment it exits, not at its next poll.
    // Its waiter goes with the client (abort), so followers that left are not kept until the exit.
    const stopping = follow && record.state.status === 'running' ? { stopping: containers.wait(record.id, 'next-exit', abort.signal).catch(() => -1) } : {};
    try {
      // Rotated files first (oldest first), then the current one, which is followed.
      const rotated = containers.logFiles(record.id).slice(0, -1);
      if (tail >= 0) {
        let kept: LogRecord[] = [];
        for (const file of [...rotated, path]) {
          for await (const batch of followLog(file, { follow: false, stopped: () => true })) {
            for (const record of selectRecords(batch, selection)) kept.push(record);
            // Trimmed now and then, not per batch: batches are small, a tail can be large.
            if (kept.length > 2 * tail + 4096) kept = lastLines(kept, tail);
          }
        }
        kept = lastLines(kept, tail);
        await send(kept);
        if (follow) for await (const batch of followLog(path, { follow: true, stopped, startOffset: await logSize(path), signal: abort.signal, ...stopping })) await send(batch);
      } else {
        for (const file of rotated) for await (const batch of followLog(file, { follow: false, stopped: () => true })) await send(batch);
        for await (const batch of followLog(path, { follow, stopped, signal: abort.signal, ...stopping })) await send(batch);
      }
    } finally {
      release();
      res.end();
    }
  });

  // Output is the log from the moment of attaching (framed as Docker's multiplexed stream, raw
  // with a TTY) until the container stops; stdin goes to conmon's attach socket.
  hijack.add('POST', '/containers/:id/attach', async (ctx) => {
    const record = containers.get(ctx.params['id']!);
    const tty = record.config.Tty === true;
    const wantIn = boolParam(ctx.query.get('stdin') ?? undefined);
    const wantOut = boolParam(ctx.query.get('stdout') ?? undefined);
    const wantErr = boolParam(ctx.query.get('stderr') ?? undefined);
    const detachKeys = parseDetachKeys(ctx.query.get('detachKeys') || DEFAULT_DETACH_KEYS);
    const stdin = wantIn ? await containers.openStdin(record.id) : undefined;
    const socket = ctx.upgrade(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    socket.on('error', () => undefined);
    const abort = new AbortController();
    socket.on('close', () => {
      abort.abort();
      if (stdin && !stdin.connected) containers.dropStdin(record.id, stdin);
      else stdin?.end();
    });
    if (stdin) {
      // As Docker: detach keys are looked for only on a TTY; without one, stdin is passed as is.
      const scanner = tty ? new DetachKeyScanner(detachKeys) : undefined;
      socket.on('data', (chunk: Buffer) => {
        const { forward, detached } = scanner ? scanner.scan(chunk) : { forward: chunk, detached: false };
        if (forward.length > 0 && !stdin.write(forward)) {
          socket.pause();
          stdin.once('drain', () => socket.resume());
        }
        if (detached) {
          // The container keeps running and keeps its stdin: only this client goes.
          stdin.close();
          abort.abort();
        }
      });
      // The client's half-close ends its input; output keeps flowing until the container stops.
      socket.on('end', () => stdin.end());
      // Input that cannot be delivered must not look delivered: cut the session.
      stdin.once('failed', () => socket.destroy());
    } else {
      socket.on('data', () => undefined); // Docker drops input to a container without OpenStdin
    }
    const path = containers.logPath(record.id);
    const release = containers.holdLog(record.id);
    const startOffset = await logSize(path);
    // The CLI attaches before it starts the container: follow until the run that is current now,
    // or the next one, has ended (however quickly it ended).
    const wasRunning = record.state.status === 'running';
    const startedBefore = record.state.startedAt;
    // Resolved at the next exit, or when the start that was about to come failed.
    let ended = false;
    const stopping = containers.wait(record.id, 'next-exit', abort.signal).catch(() => -1).finally(() => (ended = true));
    const stopped = () => {
      if (ended) return true;
      try {
        const now = containers.get(record.id).state;
        if (now.status === 'running') return false;
        return wasRunning || now.startedAt !== startedBefore;
      } catch {
        return true;
      }
    };
    try {
      for await (const batch of followLog(path, { follow: true, stopped, startOffset, signal: abort.signal, stopping })) {
        const chosen = selectRecords(batch, { stdout: wantOut, stderr: wantErr });
        if (chosen.length > 0) socket.write(encodeRecords(chosen, { tty, timestamps: false }));
      }
    } finally {
      release();
      socket.end();
    }
  });

  app.post('/containers/:id/resize', async (req: IdRequest, reply) => {
    const height = intParam('h', singleParam(req.query['h']) ?? '0', 0);
    const width = intParam('w', singleParam(req.query['w']) ?? '0', 0);
    await containers.resize(req.params.id, height, width);
    return reply.code(200).send();
  });
}
