/** /containers/{id}/exec and /exec/{id}/...: create, start (hijacked, or detached), inspect. */
import type { ApiRequest, Router } from '../router.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { HijackRouter } from '../hijack.js';
import { frame } from '../../logs/log-follow.js';
import type { ExecConfig, ExecService } from '../../containers/exec-service.js';
import { parseJsonText } from '../request-body.js';
import { bodyShapeFor, checkBodyShape } from '../body-shape.js';

const START_SHAPE = bodyShapeFor('POST', '/exec/:id/start')!;

export function registerExecRoutes(app: Router, hijack: HijackRouter, execs: ExecService): void {
  app.post('/containers/:id/exec', async (req: ApiRequest<{ id: string }>, reply) => {
    const body = req.body as ExecConfig | undefined;
    if (!body || typeof body !== 'object') throw new InvalidArgumentError('the exec configuration is missing');
    return reply.code(201).send({ Id: execs.create(req.params.id, body) });
  });

  app.post('/exec/:id/start', async (req: ApiRequest<{ id: string }>, reply) => {
    const body = (req.body ?? {}) as { Detach?: boolean };
    const exec = execs.checkStartable(req.params.id);
    if (body.Detach) {
      await execs.startDetached(exec.id, (err: unknown) => req.log.warn({ err }, 'detached exec failed'));
      return reply.code(200).send();
    }
    // Without Connection: Upgrade (dockerode's exec.start without hijack, as testcontainers
    // calls it) moby still streams the output as the response body. The status goes out with
    // the first output, so a refusal before the process runs is still an ordinary error answer.
    const tty = exec.config.Tty === true;
    reply.hijack();
    const res = reply.raw;
    const open = () => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    };
    await execs.start(exec.id, {
      write: (stream, chunk) => {
        open();
        if (!res.destroyed) res.write(tty ? chunk : frame(stream, chunk));
      },
    });
    open();
    res.end();
  });

  app.get('/exec/:id/json', async (req: ApiRequest<{ id: string }>) => execs.inspect(req.params.id));

  app.post('/exec/:id/resize', async (req: ApiRequest<{ id: string }>, reply) => {
    const height = Number(req.query['h'] ?? 0);
    const width = Number(req.query['w'] ?? 0);
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) throw new InvalidArgumentError('invalid resize: h and w must be non-negative integers');
    await execs.resize(req.params.id, height, width);
    return reply.code(200).send();
  });

  hijack.add('POST', '/exec/:id/start', async (ctx) => {
    const parsed = parseJsonText(ctx.body.toString());
    checkBodyShape(START_SHAPE, parsed);
    const body = (parsed && typeof parsed === 'object' ? parsed : {}) as { Detach?: boolean };
    // Every refusal Docker gives before it hijacks (no such exec, already run, container not
    // running or paused) is an ordinary JSON error response, never text inside the stream.
    const exec = execs.checkStartable(ctx.params['id']!);
    if (body.Detach) {
      await execs.startDetached(exec.id, () => undefined);
      const socket = ctx.upgrade('application/vnd.docker.multiplexed-stream');
      socket.end();
      return;
    }
    const tty = exec.config.Tty === true;
    const socket = ctx.upgrade(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    socket.on('error', () => undefined);
    const write = (stream: 'stdout' | 'stderr', chunk: Buffer): void => {
      if (!socket.destroyed) socket.write(tty ? chunk : frame(stream, chunk));
    };
    try {
      await execs.start(exec.id, { stdin: exec.config.AttachStdin ? socket : undefined, write });
    } catch (err) {
      // After the 101 the client reads frames: an HTTP error here would be "Unrecognized input header".
      write('stdout', Buffer.from(`${(err as Error).message}\r\n`));
    }
    socket.end();
  });
}
