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
    execs.get(req.params.id);
    if (!body.Detach) throw new InvalidArgumentError('attaching to an exec needs Connection: Upgrade (or Detach: true)');
    // Started, not awaited: the process runs on and its exit code is recorded when it ends.
    void execs.start(req.params.id, undefined).catch((err: unknown) => req.log.warn({ err }, 'detached exec failed'));
    return reply.code(200).send();
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
    const exec = execs.get(ctx.params['id']!);
    if (body.Detach) {
      void execs.start(exec.id, undefined).catch(() => undefined);
      const socket = ctx.upgrade('application/vnd.docker.multiplexed-stream');
      socket.end();
      return;
    }
    const tty = exec.config.Tty === true;
    const socket = ctx.upgrade(tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    socket.on('error', () => undefined);
    await execs.start(exec.id, {
      stdin: exec.config.AttachStdin ? socket : undefined,
      write: (stream, chunk) => {
        if (!socket.destroyed) socket.write(tty ? chunk : frame(stream, chunk));
      },
    });
    socket.end();
  });
}
