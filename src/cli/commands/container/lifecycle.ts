/** `berth start`, `stop`, `restart`, `kill`, `rm`, `wait`: one request per container, docker's output. */
import { defineCommand, type CliContext } from '../../command.js';
import { CliError, DaemonError } from '../../cli-errors.js';
import { attachContainer, demultiplex } from '../../attach-stream.js';

/** Runs `action` for each name, printing each name; errors are collected as docker does. */
async function eachContainer(ctx: CliContext, names: string[], action: (name: string) => Promise<void>, options: { print?: boolean; ignore404?: boolean } = {}): Promise<number> {
  const errors: string[] = [];
  for (const name of names) {
    try {
      await action(name);
      if (options.print !== false) ctx.stdout.write(`${name}\n`);
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err;
      if (options.ignore404 && err.status === 404) continue;
      errors.push(`Error response from daemon: ${err.message}`);
    }
  }
  if (errors.length) throw new CliError(errors.join('\n'), 1);
  return 0;
}

const requireArgs = (command: string, names: string[]) => {
  if (names.length === 0) throw new CliError(`"berth ${command}" requires at least 1 argument.\nSee 'berth ${command} --help'.`, 1);
};

export const startCommand = defineCommand({
  name: 'start',
  usage: 'berth start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  flags: { attach: { type: 'bool', short: 'a', usage: "Attach STDOUT/STDERR and forward signals" } } as const,
  async run({ flags, positionals }, ctx) {
    requireArgs('start', positionals);
    if (!flags.attach) return eachContainer(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/start`).then(() => undefined));
    if (positionals.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
    const client = ctx.client();
    const name = positionals[0]!;
    const socket = await attachContainer(client, name, { stdout: true, stderr: true });
    const output = demultiplex(socket, ctx.stdout, ctx.stderr);
    const wait = await client.request('POST', `/containers/${name}/wait`, { query: { condition: 'next-exit' } });
    await client.request('POST', `/containers/${name}/start`);
    let code = 0;
    for await (const message of client.jsonLines<{ StatusCode: number }>(wait)) code = message.StatusCode;
    await output;
    return code;
  },
});

/** stop and restart take the same flags and differ only in the endpoint. */
function stopLikeCommand(name: 'stop' | 'restart', summary: string) {
  return defineCommand({
    name,
    usage: `berth ${name} [OPTIONS] CONTAINER [CONTAINER...]`,
    summary,
    flags: {
      time: { type: 'string', short: 't', usage: 'Seconds to wait before killing the container' },
      signal: { type: 'string', short: 's', usage: 'Signal to send to the container' },
    } as const,
    async run({ flags, positionals }, ctx) {
      requireArgs(name, positionals);
      return eachContainer(ctx, positionals, (container) =>
        ctx.client().request('POST', `/containers/${container}/${name}`, { query: { t: flags.time || undefined, signal: flags.signal || undefined } }).then(() => undefined),
      );
    },
  });
}

export const stopCommand = stopLikeCommand('stop', 'Stop one or more running containers');
export const restartCommand = stopLikeCommand('restart', 'Restart one or more containers');

export const killCommand = defineCommand({
  name: 'kill',
  usage: 'berth kill [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  flags: { signal: { type: 'string', short: 's', usage: 'Signal to send to the container' } } as const,
  async run({ flags, positionals }, ctx) {
    requireArgs('kill', positionals);
    return eachContainer(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/kill`, { query: { signal: flags.signal || undefined } }).then(() => undefined));
  },
});

export const removeCommand = defineCommand({
  name: 'rm',
  usage: 'berth rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  flags: {
    force: { type: 'bool', short: 'f', usage: 'Force the removal of a running container (uses SIGKILL)' },
    volumes: { type: 'bool', short: 'v', usage: 'Remove anonymous volumes associated with the container' },
  } as const,
  async run({ flags, positionals }, ctx) {
    requireArgs('rm', positionals);
    return eachContainer(ctx, positionals, (name) => ctx.client().request('DELETE', `/containers/${name}`, { query: { force: flags.force ? '1' : undefined, v: flags.volumes ? '1' : undefined } }).then(() => undefined), { ignore404: flags.force });
  },
});

export const waitCommand = defineCommand({
  name: 'wait',
  usage: 'berth wait CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  flags: {} as const,
  async run({ positionals }, ctx) {
    requireArgs('wait', positionals);
    const client = ctx.client();
    return eachContainer(ctx, positionals, async (name) => {
      const response = await client.request('POST', `/containers/${name}/wait`);
      for await (const message of client.jsonLines<{ StatusCode: number }>(response)) ctx.stdout.write(`${message.StatusCode}\n`);
    }, { print: false });
  },
});

export const renameCommand = defineCommand({
  name: 'rename',
  usage: 'berth rename CONTAINER NEW_NAME',
  summary: 'Rename a container',
  flags: {} as const,
  async run({ positionals }, ctx) {
    if (positionals.length !== 2) throw new CliError(`"berth rename" requires exactly 2 arguments.\nSee 'berth rename --help'.`, 1);
    await ctx.client().request('POST', `/containers/${positionals[0]}/rename`, { query: { name: positionals[1] } });
    return 0;
  },
});

export const pauseCommand = defineCommand({
  name: 'pause',
  usage: 'berth pause CONTAINER [CONTAINER...]',
  summary: 'Pause all processes within one or more containers',
  flags: {} as const,
  async run({ positionals }, ctx) {
    requireArgs('pause', positionals);
    return eachContainer(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/pause`).then(() => undefined));
  },
});

export const unpauseCommand = defineCommand({
  name: 'unpause',
  usage: 'berth unpause CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  flags: {} as const,
  async run({ positionals }, ctx) {
    requireArgs('unpause', positionals);
    return eachContainer(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/unpause`).then(() => undefined));
  },
});
