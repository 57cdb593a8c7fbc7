/** Resolves the socket's group name (or numeric id) through /etc/group. */
import { readFile } from 'node:fs/promises';

export async function lookupGroupId(nameOrId: string, groupFile = '/etc/group'): Promise<number | undefined> {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === nameOrId && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
