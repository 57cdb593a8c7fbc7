/**
 * Container records, one JSON document each (written atomically) under the data root, with a name
 * index in memory. Lookup follows Docker: full ID, name (with or without "/"), unique ID prefix.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { ConflictError, InvalidArgumentError, NotFoundError, errnoCode } from '../lib/errors.js';
import type { ContainerRecord } from './container-record.js';

export class ContainerStore {
  private readonly records = new Map<string, ContainerRecord>();

  private constructor(private readonly root: string) {}

  /**
   * Loads every record. Only a directory whose record provably never got written (ENOENT: a create
   * that a crash cut short) is removed; a record that cannot be read or parsed is reported and its
   * directory kept, never deleted because a read failed.
   */
  static async open(root: string, onUnreadable: (id: string, err: unknown) => void = () => undefined): Promise<ContainerStore> {
    const store = new ContainerStore(root);
    await mkdir(root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(root)) {
      let text: string;
      try {
        text = await readFile(join(root, id, 'config.v2.json'), 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') await rm(join(root, id), { recursive: true, force: true });
        else onUnreadable(id, err);
        continue;
      }
      try {
        const record = JSON.parse(text) as ContainerRecord;
        if (record.id !== id) throw new Error(`the record names container ${String(record.id)}`);
        store.records.set(record.id, record);
      } catch (err) {
        onUnreadable(id, err);
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

  /** Throws Docker's conflict when a container other than `exceptId` (or `pendingId`, one being made) has the name. */
  checkName(name: string, exceptId?: string, pendingId?: string): void {
    const holder = pendingId ?? this.byName(name)?.id;
    if (holder && holder !== exceptId) {
      throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
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
