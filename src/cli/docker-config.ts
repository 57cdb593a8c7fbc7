/**
 * The docker CLI's config.json ($DOCKER_CONFIG or ~/.docker): berth reads and writes the same
 * credentials, through a credential helper when one is configured.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './cli-errors.js';

export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  return env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
}

function read(env: NodeJS.ProcessEnv): ConfigFile {
  try {
    return JSON.parse(readFileSync(join(configDir(env), 'config.json'), 'utf8')) as ConfigFile;
  } catch {
    return {};
  }
}

function write(env: NodeJS.ProcessEnv, config: ConfigFile): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'config.json');
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
  renameSync(temp, path);
  return path;
}

/** The key docker uses for a registry: Docker Hub's legacy URL, else host[:port]. */
export function authKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' || domain === 'registry-1.docker.io' ? DOCKER_HUB_AUTH_KEY : domain;
}

function helperFor(config: ConfigFile, key: string): string | undefined {
  return config.credHelpers?.[key] ?? config.credsStore;
}

function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): string {
  const result = spawnSync(`docker-credential-${helper}`, [action], { input, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    if (action === 'get' && /credentials not found/i.test(result.stdout + result.stderr)) return '';
    throw new CliError(`error ${action === 'get' ? 'getting' : action === 'store' ? 'storing' : 'erasing'} credentials with docker-credential-${helper}: ${(result.stderr || result.stdout || String(result.error)).trim()}`, 1);
  }
  return result.stdout;
}

export function loadCredentials(env: NodeJS.ProcessEnv, domain: string): Credentials | undefined {
  const config = read(env);
  const key = authKey(domain);
  const helper = helperFor(config, key);
  if (helper) {
    const out = runHelper(helper, 'get', key);
    if (!out.trim()) return undefined;
    const parsed = JSON.parse(out) as { Username?: string; Secret?: string };
    return parsed.Username ? { username: parsed.Username, password: parsed.Secret ?? '', serveraddress: key } : undefined;
  }
  const encoded = config.auths?.[key]?.auth;
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: key } : undefined;
}

/** Stores credentials; returns the config file path when they went into it in plain form. */
export function storeCredentials(env: NodeJS.ProcessEnv, credentials: Credentials): string | undefined {
  const config = read(env);
  const helper = helperFor(config, credentials.serveraddress);
  if (helper) {
    runHelper(helper, 'store', JSON.stringify({ ServerURL: credentials.serveraddress, Username: credentials.username, Secret: credentials.password }));
    return undefined;
  }
  config.auths = { ...(config.auths ?? {}), [credentials.serveraddress]: { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') } };
  return write(env, config);
}

export function eraseCredentials(env: NodeJS.ProcessEnv, key: string): boolean {
  const config = read(env);
  const helper = helperFor(config, key);
  if (helper) {
    runHelper(helper, 'erase', key);
    return true;
  }
  if (!config.auths?.[key]) return false;
  delete config.auths[key];
  write(env, config);
  return true;
}

/** X-Registry-Auth for a request: base64url JSON, "e30=" (that is {}) when there are none. */
export function registryAuthHeader(credentials: Credentials | undefined): string {
  return Buffer.from(JSON.stringify(credentials ?? {})).toString('base64url') || 'e30=';
}
