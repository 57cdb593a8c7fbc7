/** Registry credentials as the Engine API carries them (X-Registry-Auth, POST /auth). */
import { InvalidArgumentError } from '../lib/errors.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
  auth?: string;
}

/** Decodes X-Registry-Auth: base64url (or base64) JSON; "e30=" or empty means none. */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (!header || header.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const config = parsed as AuthConfig;
  if (config.auth && !config.username) {
    const decoded = Buffer.from(config.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      config.username = decoded.slice(0, colon);
      config.password = decoded.slice(colon + 1);
    }
  }
  return config.username || config.identitytoken || config.registrytoken ? config : undefined;
}
