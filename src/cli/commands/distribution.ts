/** `berth pull`, `berth push`, `berth login`, `berth logout`. */
import { readFileSync } from 'node:fs';
import { defineCommand } from '../command.js';
import { CliError } from '../cli-errors.js';
import { displayProgress } from '../progress-display.js';
import { authKey, eraseCredentials, loadCredentials, registryAuthHeader, storeCredentials } from '../docker-config.js';
import { familiarReference, parseNormalizedReference } from '../../images/reference.js';

/** "localhost:5000/app:1" -> { repo: "localhost:5000/app", tag: "1", domain: "localhost:5000" } */
function splitReference(name: string): { repo: string; tag?: string; digest?: string; domain: string } {
  const ref = parseNormalizedReference(name);
  const repo = familiarReference({ ...ref, tag: undefined, digest: undefined });
  return { repo, tag: ref.tag, digest: ref.digest, domain: ref.domain };
}

export const pullCommand = defineCommand({
  name: 'pull',
  usage: 'berth pull [OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  flags: {
    'all-tags': { type: 'bool', short: 'a', usage: 'Download all tagged images in the repository' },
    platform: { type: 'string', usage: 'Set platform if server is multi-platform capable' },
    quiet: { type: 'bool', short: 'q', usage: 'Suppress verbose output' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth pull" requires exactly 1 argument.\nSee 'berth pull --help'.`, 1);
    if (flags['all-tags']) throw new CliError('pulling all tags (-a) is not supported yet: pull the tags one by one', 1);
    const { repo, tag, digest, domain } = splitReference(positionals[0]!);
    const client = ctx.client();
    const response = await client.request('POST', '/images/create', {
      query: { fromImage: repo, tag: digest ?? tag ?? 'latest', platform: flags.platform || undefined },
      headers: { 'X-Registry-Auth': registryAuthHeader(loadCredentials(process.env, domain)) },
    });
    await displayProgress(client, response, ctx.stdout, flags.quiet);
    ctx.stdout.write(`${repo}${digest ? `@${digest}` : `:${tag ?? 'latest'}`}\n`);
    return 0;
  },
});

export const pushCommand = defineCommand({
  name: 'push',
  usage: 'berth push [OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  flags: {
    'all-tags': { type: 'bool', short: 'a', usage: 'Push all tags of an image to the repository' },
    quiet: { type: 'bool', short: 'q', usage: 'Suppress verbose output' },
  } as const,
  async run({ flags, positionals }, ctx) {
    if (positionals.length !== 1) throw new CliError(`"berth push" requires exactly 1 argument.\nSee 'berth push --help'.`, 1);
    const { repo, tag, domain } = splitReference(positionals[0]!);
    if (flags['all-tags'] && tag) throw new CliError('tag can\'t be used with --all-tags/-a', 1);
    const client = ctx.client();
    const response = await client.request('POST', `/images/${repo}/push`, {
      query: { tag: flags['all-tags'] ? undefined : (tag ?? 'latest') },
      headers: { 'X-Registry-Auth': registryAuthHeader(loadCredentials(process.env, domain)) },
    });
    await displayProgress(client, response, ctx.stdout, flags.quiet);
    if (flags.quiet) ctx.stdout.write(`${repo}:${tag ?? 'latest'}\n`);
    return 0;
  },
});

export const loginCommand = defineCommand({
  name: 'login',
  usage: 'berth login [OPTIONS] [SERVER]',
  summary: 'Authenticate to a registry',
  flags: {
    username: { type: 'string', short: 'u', usage: 'Username' },
    password: { type: 'string', short: 'p', usage: 'Password' },
    'password-stdin': { type: 'bool', usage: 'Take the password from stdin' },
  } as const,
  async run({ flags, positionals }, ctx) {
    const server = positionals[0] ?? 'docker.io';
    let password = flags.password;
    if (flags['password-stdin']) {
      if (flags.password) throw new CliError('--password and --password-stdin are mutually exclusive', 1);
      if (!flags.username) throw new CliError('Must provide --username with --password-stdin', 1);
      password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    }
    if (!flags.username || !password) throw new CliError('Error: Cannot perform an interactive login from a non TTY device: use -u and --password-stdin', 1);
    if (flags.password) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    const key = authKey(server.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    const credentials = { username: flags.username, password, serveraddress: key };
    const result = await ctx.client().json<{ Status: string }>('POST', '/auth', { body: credentials });
    const stored = storeCredentials(process.env, credentials);
    if (stored) ctx.stderr.write(`WARNING! Your credentials are stored unencrypted in '${stored}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
    ctx.stdout.write(`${result.Status}\n`);
    return 0;
  },
});

export const logoutCommand = defineCommand({
  name: 'logout',
  usage: 'berth logout [SERVER]',
  summary: 'Log out from a registry',
  flags: {} as const,
  async run({ positionals }, ctx) {
    const key = authKey((positionals[0] ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
    if (eraseCredentials(process.env, key)) ctx.stdout.write(`Removing login credentials for ${key}\n`);
    else ctx.stdout.write(`Not logged in to ${key}\n`);
    return 0;
  },
});
