/** The engine's stable ID (`ID` in /info), created once per data root. */
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { errnoCode } from '../lib/errors.js';

export async function loadEngineId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (id) return id;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  await writeFileAtomic(path, `${id}\n`);
  return id;
}
