/** `berth version`: the client's and the server's versions, laid out as docker prints them. */
import { defineCommand, type CliContext } from '../command.js';
import { CLIENT_API_VERSION } from '../engine-client.js';
import { formatOne } from '../format/formatter.js';
import { alignColumns, KEY_VALUE_LAYOUT } from '../format/tabwriter.js';
import { formatAnsic } from '../go-time.js';
import { CliError } from '../cli-errors.js';
import { goArchitecture } from '../../system/host-probe.js';
import type { SystemVersion } from '../../api/types/index.js';

interface ClientVersion {
  Platform: { Name: string };
  Version: string;
  ApiVersion: string;
  DefaultAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  BuildTime: string;
  Context: string;
}

function clientVersion(ctx: CliContext, apiVersion: string): ClientVersion {
  return {
    Platform: { Name: 'berth' },
    Version: ctx.build.version,
    ApiVersion: apiVersion,
    DefaultAPIVersion: CLIENT_API_VERSION,
    GitCommit: ctx.build.gitCommit,
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: goArchitecture(),
    BuildTime: ctx.build.buildTime ? formatAnsic(new Date(ctx.build.buildTime)) : '',
    Context: 'default',
  };
}

function renderClient(c: ClientVersion): string {
  const downgraded = c.ApiVersion !== c.DefaultAPIVersion ? ` (downgraded from ${c.DefaultAPIVersion})` : '';
  return [
    `Client: ${c.Platform.Name}`,
    ` Version:\t${c.Version}`,
    ` API version:\t${c.ApiVersion}${downgraded}`,
    ` Node version:\t${c.GoVersion.replace(/^node/, 'v')}`,
    ` Git commit:\t${c.GitCommit}`,
    ` Built:\t${c.BuildTime}`,
    ` OS/Arch:\t${c.Os}/${c.Arch}`,
    ` Context:\t${c.Context}`,
  ].join('\n');
}

function renderServer(s: SystemVersion): string {
  const lines = [`Server:${s.Platform?.Name ? ' ' + s.Platform.Name : ''}`];
  const components = s.Components?.length ? s.Components : [{ Name: 'Engine', Version: s.Version ?? '', Details: null }];
  for (const component of components) {
    lines.push(` ${component.Name}:`);
    if (component.Name === 'Engine') {
      const details = component.Details ?? {};
      const built = s.BuildTime ? (Number.isNaN(Date.parse(s.BuildTime)) ? s.BuildTime : formatAnsic(new Date(s.BuildTime))) : '';
      lines.push(
        `  Version:\t${component.Version}`,
        `  API version:\t${details['ApiVersion'] ?? s.ApiVersion} (minimum version ${details['MinAPIVersion'] ?? s.MinAPIVersion})`,
        `  ${/^node/.test(s.GoVersion ?? '') ? 'Node' : 'Go'} version:\t${s.GoVersion ?? ''}`,
        `  Git commit:\t${details['GitCommit'] ?? s.GitCommit}`,
        `  Built:\t${built}`,
        `  OS/Arch:\t${s.Os}/${s.Arch}`,
        `  Experimental:\t${String(s.Experimental ?? false)}`,
      );
    } else {
      lines.push(`  Version:\t${component.Version}`);
      for (const [key, value] of Object.entries(component.Details ?? {}).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${key}:\t${value}`);
    }
  }
  return lines.join('\n');
}

const flags = {
  format: { type: 'string', short: 'f', usage: 'Format output using a custom template: \'json\' or a Go template' },
} as const;

export const versionCommand = defineCommand({
  name: 'version',
  usage: 'berth version [OPTIONS]',
  summary: 'Show the berth version information',
  flags,
  async run({ flags: options, positionals }, ctx) {
    if (positionals.length > 0) throw new CliError(`"berth version" accepts no arguments.\nSee 'berth version --help'.`, 1);
    let server: SystemVersion | undefined;
    let serverError: unknown;
    let apiVersion = CLIENT_API_VERSION;
    try {
      const client = ctx.client();
      apiVersion = await client.apiVersion();
      server = await client.json<SystemVersion>('GET', '/version');
    } catch (err) {
      serverError = err;
    }
    const client = clientVersion(ctx, apiVersion);
    if (options.format) {
      ctx.stdout.write(formatOne({ Client: client, Server: server ?? null }, options.format));
    } else {
      let text = renderClient(client);
      if (server) text += '\n\n' + renderServer(server);
      ctx.stdout.write(alignColumns(text, KEY_VALUE_LAYOUT) + '\n');
    }
    if (serverError) throw serverError;
    return 0;
  },
});
