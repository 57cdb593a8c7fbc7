/** `berth exec`: a command in a running container, its output, and its exit code. */
import type { Readable } from 'node:stream';
import type { ReadStream, WriteStream } from 'node:tty';
import { defineCommand } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { demultiplex, hijack } from '../../attach-stream.js';

export const execCommand = defineCommand({
  name: 'exec',
  usage: 'berth exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  interspersed: false,
  flags: {
    detach: { type: 'bool', short: 'd', usage: 'Detached mode: run command in the background' },
    interactive: { type: 'bool', short: 'i', usage: 'Keep STDIN open even if not attached' },
    tty: { type: 'bool', short: 't', usage: 'Allocate a pseudo-TTY' },
    env: { type: 'strings', short: 'e', usage: 'Set environment variables' },
    workdir: { type: 'string', short: 'w', usage: 'Working directory inside the container' },
    user: { type: 'string', short: 'u', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    privileged: { type: 'bool', usage: 'Give extended privileges to the command' },
  } as const,
  async run({ flags, positionals }, ctx) {
    const [container, ...command] = positionals;
    if (!container || command.length === 0) throw new CliError(`"berth exec" requires at least 2 arguments.\nSee 'berth exec --help'.`, 1);
    const client = ctx.client();
    const attach = !flags.detach;
    const terminal = ctx.stdout as Partial<WriteStream>;
    const consoleSize = flags.tty && terminal.isTTY && terminal.rows && terminal.columns ? [terminal.rows, terminal.columns] : undefined;
    const created = await client.json<{ Id: string }>('POST', `/containers/${container}/exec`, {
      body: { User: flags.user, Privileged: flags.privileged, Tty: flags.tty, ConsoleSize: consoleSize, AttachStdin: flags.interactive && attach, AttachStdout: attach, AttachStderr: attach, Detach: flags.detach, Env: flags.env, WorkingDir: flags.workdir, Cmd: command },
    });
    if (flags.detach) {
      await client.request('POST', `/exec/${created.Id}/start`, { body: { Detach: true, Tty: false } });
      return 0;
    }
    const socket = await hijack(client, `/exec/${created.Id}/start`, { Detach: false, Tty: flags.tty, ConsoleSize: consoleSize });
    const stdin = ctx.stdin as Readable & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;
    const rawMode = flags.tty && flags.interactive && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
    if (rawMode) stdin.setRawMode!(true);
    if (flags.interactive) stdin.pipe(socket);
    else socket.end();
    // With a TTY the output is one raw stream, kept the terminal's size as it changes.
    const resize = () => {
      if (terminal.isTTY && terminal.rows && terminal.columns) void client.request('POST', `/exec/${created.Id}/resize`, { query: { h: String(terminal.rows), w: String(terminal.columns) } }).catch(() => undefined);
    };
    if (flags.tty) process.on('SIGWINCH', resize);
    try {
      if (flags.tty) {
        for await (const chunk of socket) ctx.stdout.write(chunk as Buffer);
      } else {
        await demultiplex(socket, ctx.stdout, ctx.stderr);
      }
    } catch {
      // the connection was cut: the exit code says what happened
    } finally {
      process.off('SIGWINCH', resize);
      if (rawMode) stdin.setRawMode!(false);
      stdin.unpipe(socket);
      (stdin as { unref?: () => void }).unref?.();
    }
    const result = await client.json<{ ExitCode: number | null }>('GET', `/exec/${created.Id}/json`);
    return result.ExitCode ?? 0;
  },
});
