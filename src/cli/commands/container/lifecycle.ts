/** `berth start`, `stop`, `restart`, `kill`, `rm`, `wait`: one request per container, docker's output. */
import { defineCommand, type CliContext } from '../../command.js';
import { CliError } from '../../cli-errors.js';
import { openAttachSession } from '../../attach-session.js';
import { proxySignals } from '../../signal-proxy.js';
import { forEachName } from '../../each-name.js';

const requireArgs = (command: string, names: string[]) => {
  if (names.length === 0) throw new CliError(`"berth ${command}" requires at least 1 argument.\nSee 'berth ${command} --help'.`, 1);
};

export const startCommand = defineCommand({
  name: 'start',
  usage: 'berth start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  flags: {
    attach: { type: 'bool', short: 'a', usage: 'Attach STDOUT/STDERR and forward signals' },
    interactive: { type: 'bool', short: 'i', usage: "Attach container's STDIN" },
    'detach-keys': { type: 'string', usage: 'Override the key sequence for detaching a container' },
  } as const,
  async run({ flags, positionals }, ctx) {
    requireArgs('start', positionals);
    if (!flags.attach && !flags.interactive) return forEachName(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/start`).then(() => undefined));
    if (positionals.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
    const name = positionals[0]!;
    const code = await runAttached(ctx, name, { stdin: flags.interactive, detachKeys: flags['detach-keys'], start: true });
    return code;
  },
});

export const attachCommand = defineCommand({
  name: 'attach',
  usage: 'berth attach [OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  flags: {
    'no-stdin': { type: 'bool', usage: 'Do not attach STDIN' },
    'sig-proxy': { type: 'bool', usage: 'Proxy all received signals to the process', default: true },
    'detach-keys': { type: 'string', usage: 'Override the key sequence for detaching a container' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth attach" requires exactly 1 argument.\nSee 'berth attach --help'.`, 1);
    return runAttached(ctx, positionals[0]!, { stdin: !flags['no-stdin'], detachKeys: flags['detach-keys'], start: false, sigProxy: flags['sig-proxy'] });
  },
});

/** start -a / attach: one attached session until the container stops (or the client detaches). */
async function runAttached(ctx: CliContext, name: string, options: { stdin: boolean; detachKeys: string; start: boolean; sigProxy?: boolean }): Promise<number> {
  const client = ctx.client();
  const info = await client.json<{ Id: string; State: { Running: boolean; Paused: boolean }; Config: { Tty: boolean; OpenStdin: boolean } }>('GET', `/containers/${name}/json`);
  if (!options.start && !info.State.Running) throw new CliError('You cannot attach to a stopped container, start it first', 1);
  if (!options.start && info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first', 1);
  const stdin = options.stdin && info.Config.OpenStdin;
  const session = await openAttachSession(client, info.Id, ctx, { stdin, tty: info.Config.Tty, detachKeys: options.detachKeys || undefined });
  const wait = await client.request('POST', `/containers/${info.Id}/wait`, { query: { condition: options.start ? 'next-exit' : 'not-running' } });
  const status = (async () => {
    let code = 0;
    for await (const message of client.jsonLines<{ StatusCode: number }>(wait)) code = message.StatusCode;
    return code;
  })();
  if (options.start) {
    try {
      await client.request('POST', `/containers/${info.Id}/start`);
    } catch (err) {
      session.close();
      throw err;
    }
  }
  await session.started();
  const stopProxy = options.sigProxy !== false && !info.Config.Tty ? proxySignals(client, info.Id) : () => undefined;
  const outcome = await Promise.race<number | 'detached'>([status, session.output.then((): Promise<number | 'detached'> | 'detached' => (session.detached ? 'detached' : status))]);
  stopProxy();
  if (outcome === 'detached') return 0;
  await session.output;
  return outcome;
}

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
      return forEachName(ctx, positionals, (container) =>
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
    return forEachName(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/kill`, { query: { signal: flags.signal || undefined } }).then(() => undefined));
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
    return forEachName(ctx, positionals, (name) => ctx.client().request('DELETE', `/containers/${name}`, { query: { force: flags.force ? '1' : undefined, v: flags.volumes ? '1' : undefined } }).then(() => undefined), { ignore404: flags.force });
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
    return forEachName(ctx, positionals, async (name) => {
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
    return forEachName(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/pause`).then(() => undefined));
  },
});

export const unpauseCommand = defineCommand({
  name: 'unpause',
  usage: 'berth unpause CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  flags: {} as const,
  async run({ positionals }, ctx) {
    requireArgs('unpause', positionals);
    return forEachName(ctx, positionals, (name) => ctx.client().request('POST', `/containers/${name}/unpause`).then(() => undefined));
  },
});
