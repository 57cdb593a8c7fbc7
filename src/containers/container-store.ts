/**
 * Container records, one JSON document each (written atomically) under the data root, with a name
 * index in memory. Lookup follows Docker: full ID, name (with or without "/"), unique ID prefix.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../lib/errors.js';
import type { ContainerRecord } from './container-record.js';

export class ContainerStore {
  private readonly records = new Map<string, ContainerRecord>();

  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<ContainerStore> {
    const store = new ContainerStore(root);
    await mkdir(root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(root)) {
      try {
        const record = JSON.parse(await readFile(join(root, id, 'config.v2.json'), 'utf8')) as ContainerRecord;
        store.records.set(record.id, record);
      } catch {
        // A container whose record never got written is half-made: remove it.
        await rm(join(root, id), { recursive: true, force: true });
      }
    }
    return store;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  all(): ContainerRecord[] {
    return [...this.records.values()];
  }

  byName(name: string): ContainerRecord | undefined {
    return this.all().find((r) => r.name === name);
  }

  /** Reserves the name or throws Docker's conflict. */
  checkName(name: string, exceptId?: string): void {
    const holder = this.byName(name);
    if (holder && holder.id !== exceptId) {
      throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
  }

  async save(record: ContainerRecord): Promise<void> {
    await mkdir(this.dir(record.id), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir(record.id), 'config.v2.json'), JSON.stringify(record));
    this.records.set(record.id, record);
  }

  async remove(id: string): Promise<void> {
    this.records.delete(id);
    await rm(this.dir(id), { recursive: true, force: true });
  }

  resolve(term: string): ContainerRecord {
    const byId = this.records.get(term);
    if (byId) return byId;
    const name = term.startsWith('/') ? term.slice(1) : term;
    const named = this.byName(name);
    if (named) return named;
    if (/^[a-f0-9]+$/.test(term)) {
      const matches = this.all().filter((r) => r.id.startsWith(term));
      if (matches.length > 1) throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${term}`);
      if (matches[0]) return matches[0];
    }
    throw new NotFoundError(`No such container: ${term}`);
  }
}
