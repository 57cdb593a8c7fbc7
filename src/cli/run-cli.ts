/** The berth CLI: global flags, the daemon address, then one command. */
import { networkGroup, portCommand } from './commands/network/network.js';
import { volumeGroup } from './commands/volume/volume.js';
import { commitCommand, diffCommand, topCommand } from './commands/container/inspect-changes.js';
import { containerPruneCommand, exportCommand } from './commands/container/export-prune.js';
import { cpCommand } from './commands/container/cp.js';
import { buildCommand, builderPruneCommand } from './commands/image/build.js';
import { systemDfCommand, systemPruneCommand } from './commands/system.js';
import { statsCommand, updateCommand } from './commands/container/stats.js';
import { parseFlags, formatFlagHelp, FlagError, type FlagSpecs } from '../lib/flag-parser.js';
import { readBuildInfo } from '../lib/build-info.js';
import type { Clock } from '../lib/clock.js';
import { EngineClient, parseEngineHost } from './engine-client.js';
import { toExitReport, CliError } from './cli-errors.js';
import type { CliContext, Command } from './command.js';
import { versionCommand } from './commands/version.js';
import { infoCommand } from './commands/info.js';
import { eventsCommand } from './commands/events.js';
import { imageListCommand } from './commands/image/image-list.js';
import { imageImportCommand } from './commands/image/image-import.js';
import { imageLoadCommand, imageSaveCommand } from './commands/image/image-load-save.js';
import { imageTagCommand, imageRemoveCommand } from './commands/image/image-tag-rm.js';
import { historyCommand, imageInspectCommand, inspectCommand } from './commands/image/image-inspect-history.js';
import { imagePruneCommand } from './commands/image/image-prune.js';
import { loginCommand, logoutCommand, pullCommand, pushCommand } from './commands/distribution.js';
import { createCommand, runCommand } from './commands/container/run.js';
import { attachCommand, killCommand, pauseCommand, removeCommand, renameCommand, restartCommand, startCommand, stopCommand, unpauseCommand, waitCommand } from './commands/container/lifecycle.js';
import { logsCommand, psCommand } from './commands/container/ps-logs.js';
import { execCommand } from './commands/container/exec.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

const GLOBAL_FLAGS = {
  host: { type: 'strings', short: 'H', usage: 'Daemon socket to connect to' },
  debug: { type: 'bool', short: 'D', usage: 'Enable debug mode' },
  'log-level': { type: 'string', short: 'l', usage: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")', default: 'info' },
  version: { type: 'bool', short: 'v', usage: 'Print version information and quit' },
  help: { type: 'bool', usage: 'Print usage' },
} satisfies FlagSpecs;

const imageGroup: Command = {
  name: 'image',
  usage: 'berth image COMMAND',
  summary: 'Manage images',
  flags: {},
  subcommands: [buildCommand, historyCommand, imageImportCommand, imageInspectCommand, imageLoadCommand, imageListCommand, imagePruneCommand, pullCommand, pushCommand, imageRemoveCommand, imageSaveCommand, imageTagCommand],
  run: async () => 0,
};

const containerGroup: Command = {
  name: 'container',
  usage: 'berth container COMMAND',
  summary: 'Manage containers',
  flags: {},
  subcommands: [attachCommand, commitCommand, cpCommand, createCommand, diffCommand, execCommand, exportCommand, containerPruneCommand, statsCommand, topCommand, updateCommand, inspectCommand, killCommand, logsCommand, pauseCommand, psCommand, renameCommand, restartCommand, removeCommand, runCommand, startCommand, stopCommand, unpauseCommand, waitCommand],
  run: async () => 0,
};

const systemGroup: Command = {
  name: 'system',
  usage: 'berth system COMMAND',
  summary: 'Manage berth',
  flags: {},
  subcommands: [systemDfCommand, systemPruneCommand],
  run: async () => 0,
};

const builderGroup: Command = {
  name: 'builder',
  usage: 'berth builder COMMAND',
  summary: 'Manage builds',
  flags: {},
  subcommands: [builderPruneCommand],
  run: async () => 0,
};

const COMMANDS: Command[] = [
  buildCommand,
  builderGroup,
  systemGroup,
  containerGroup,
  networkGroup,
  portCommand,
  volumeGroup,
  commitCommand,
  diffCommand,
  topCommand,
  exportCommand,
  cpCommand,
  statsCommand,
  updateCommand,
  createCommand,
  eventsCommand,
  execCommand,
  historyCommand,
  imageGroup,
  imageListCommand,
  imageImportCommand,
  infoCommand,
  inspectCommand,
  imageLoadCommand,
  loginCommand,
  logoutCommand,
  pullCommand,
  pushCommand,
  imageRemoveCommand,
  killCommand,
  logsCommand,
  pauseCommand,
  psCommand,
  renameCommand,
  restartCommand,
  attachCommand,
  removeCommand,
  runCommand,
  imageSaveCommand,
  startCommand,
  stopCommand,
  imageTagCommand,
  unpauseCommand,
  versionCommand,
  waitCommand,
];

function groupUsage(group: Command): string {
  const subs = group.subcommands ?? [];
  const names = subs.map((c) => (c === imageListCommand ? 'ls' : c === imageRemoveCommand ? 'rm' : c === psCommand ? 'ls' : c.name));
  const width = Math.max(...names.map((n) => n.length));
  return [`Usage:  ${group.usage}`, '', group.summary, '', 'Commands:', ...subs.map((c, i) => `  ${names[i]!.padEnd(width)}   ${c.summary}`), '', `Run 'berth ${group.name} COMMAND --help' for more information on a command.`, ''].join('\n');
}

/** -H, then BERTH_HOST, then DOCKER_HOST, then the default socket. */
export function resolveHost(flagHosts: readonly string[], env: NodeJS.ProcessEnv): string {
  if (flagHosts.length > 1) throw new CliError('Please specify only one -H', 125);
  return flagHosts[0] || env['BERTH_HOST'] || env['DOCKER_HOST'] || DEFAULT_HOST;
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage:  berth [OPTIONS] COMMAND',
    '',
    'A container engine that speaks the Docker Engine API',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`),
    '',
    'Global Options:',
    formatFlagHelp(GLOBAL_FLAGS),
    '',
    "Run 'berth COMMAND --help' for more information on a command.",
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const options = formatFlagHelp(command.flags);
  return `Usage:  ${command.usage}\n\n${command.summary}\n${options ? `\nOptions:\n${options}\n` : ''}`;
}

const systemClock: Clock = { nowMs: () => Date.now(), nowNs: () => BigInt(Date.now()) * 1_000_000n };

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const build = readBuildInfo();
  let commandPath = 'berth';
  try {
    const global = parseFlags(GLOBAL_FLAGS, argv, { interspersed: false });
    if (global.flags.version) {
      process.stdout.write(`Berth version ${build.version}, build ${build.gitCommit}\n`);
      return 0;
    }
    const [name, ...rest] = global.positionals;
    if (global.flags.help || name === undefined || name === 'help') {
      process.stdout.write(usage());
      return 0;
    }
    let command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new CliError(`berth: unknown command: berth ${name}\n\nRun 'berth --help' for more information`, 1);
    commandPath = `berth ${command.name}`;
    if (command.subcommands) {
      const group = command;
      const subName = rest.shift();
      if (subName === undefined || subName === '--help' || subName === 'help') {
        process.stdout.write(groupUsage(group));
        return 0;
      }
      command = group.subcommands!.find((c) => c.name === subName || c.aliases?.includes(subName));
      if (!command) throw new CliError(`berth: unknown command: berth ${group.name} ${subName}\n\nRun 'berth ${group.name} --help' for more information`, 1);
      commandPath = `berth ${group.name} ${subName}`;
    }
    const helpRequested = rest.includes('--help') && (command.interspersed !== false || rest.indexOf('--help') < rest.findIndex((a) => !a.startsWith('-')));
    if (helpRequested) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    const parsed = parseFlags(command.flags, rest, { interspersed: command.interspersed ?? true });
    const hostUrl = resolveHost(global.flags.host, env);
    let client: EngineClient | undefined;
    const ctx: CliContext = {
      client: () => (client ??= new EngineClient(parseEngineHost(hostUrl), {
        pinnedVersion: env['BERTH_API_VERSION'] || env['DOCKER_API_VERSION'] || undefined,
        userAgent: `Berth-Client/${build.version} (linux)`,
      })),
      hostUrl,
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      build,
      clock: systemClock,
      debug: global.flags.debug,
    };
    return await command.run(parsed, ctx);
  } catch (err) {
    const report = toExitReport(err, commandPath);
    if (isDebugRequested(argv) && err instanceof Error && !(err instanceof FlagError) && err.stack) process.stderr.write(`${err.stack}\n`);
    process.stderr.write(`${report.text}\n`);
    return report.exitCode;
  }
}

function isDebugRequested(argv: readonly string[]): boolean {
  return argv.includes('-D') || argv.includes('--debug');
}

