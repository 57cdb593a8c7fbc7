/** The API socket's group: its id from /etc/group, and a mode that lets the group reach the socket. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function lookupGroupId(nameOrId: string, groupFile = '/etc/group'): Promise<number | undefined> {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === nameOrId && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/**
 * The exec root's mode: 0711 when a unix socket is served directly in it (others may pass through
 * to the socket, whose own 0660 root:group decides who connects, but cannot list the directory),
 * 0700 otherwise.
 */
export function socketDirectoryMode(execRoot: string, hosts: readonly { kind: string; path?: string }[]): number {
  const root = resolve(execRoot);
  return hosts.some((h) => h.kind === 'unix' && h.path !== undefined && dirname(resolve(h.path)) === root) ? 0o711 : 0o700;
}
