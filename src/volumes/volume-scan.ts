/**
 * Finds the volumes under the volumes root when berthd starts. Nothing is deleted because a read
 * failed: a volume whose record is missing or not valid JSON but which may hold data is kept as a
 * plain local volume (a bad record is kept beside as `volume.json.corrupt`); a volume whose record
 * cannot be read (EIO, EMFILE, ...) is skipped and logged. Only a create that provably never
 * finished (no record, and no `_data` or an empty one that nothing is mounted on) is removed, entry
 * by entry, never recursively.
 */
import { chmod, lstat, mkdir, readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { errnoCode } from '../lib/errors.js';
import { mountPointsWithin } from './mount-points.js';
import { parseVolumeRecord, recoveredVolumeRecord, type VolumeRecord } from './volume-record.js';

export interface VolumeLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface VolumeScan {
  records: VolumeRecord[];
  /** Directories that look like volumes but could not be read: their names stay taken. */
  unreadable: string[];
}

/** A volume's own directory: only berthd goes in (the data root and `volumes` are traversable by name at most). */
export const VOLUME_DIR_MODE = 0o700;
/** `_data` has the mode of a fresh directory, as Docker's: containers' non-root users must reach it. */
export const VOLUME_DATA_MODE = 0o755;

const TEMP_RECORD = /^\.volume\.json\..*\.tmp$/;

type DataState = 'absent' | 'empty' | 'holds-data' | 'unreadable';

export async function scanVolumes(root: string, deps: { log: VolumeLog; mountinfo: () => Promise<string> }): Promise<VolumeScan> {
  const { log } = deps;
  const scan: VolumeScan = { records: [], unreadable: [] };
  const mountinfo = await deps.mountinfo();
  for (const name of await readdir(root)) {
    const dir = join(root, name);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory()) continue; // not a volume (a stray file, or gone since)
    const createdAt = new Date(info.birthtimeMs || info.mtimeMs).toISOString();
    let text: string | undefined;
    try {
      text = await readFile(join(dir, 'volume.json'), 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') {
        log.error({ volume: name, err }, 'cannot read the volume record: the volume is left out until berthd restarts, nothing was deleted');
        scan.unreadable.push(name);
        continue;
      }
    }
    await removeTempRecords(dir);
    if (text !== undefined) {
      const record = parseVolumeRecord(text, name, createdAt);
      if (record) {
        await mkdir(join(dir, '_data'), { mode: VOLUME_DATA_MODE }).catch(() => undefined); // a remove that stopped after `_data`
        scan.records.push(await lockedDown(dir, record, log));
        continue;
      }
      const kept = `${join(dir, 'volume.json')}.corrupt`;
      await rename(join(dir, 'volume.json'), kept).then(
        () => log.warn({ volume: name, record: kept }, 'the volume record is not valid: the volume is kept with default options, the bad record beside it'),
        (err: unknown) => log.error({ volume: name, err }, 'the volume record is not valid and could not be set aside: the volume is kept with default options for now'),
      );
      scan.records.push(await lockedDown(dir, await persisted(dir, recoveredVolumeRecord(name, createdAt), log), log));
      continue;
    }
    const state = await dataState(join(dir, '_data'), mountinfo);
    if (state === 'unreadable') {
      log.error({ volume: name }, 'cannot read the volume directory: it is left out until berthd restarts, nothing was deleted');
      scan.unreadable.push(name);
    } else if (state === 'holds-data') {
      log.warn({ volume: name }, 'a volume directory without its record holds data: kept as a volume with default options');
      scan.records.push(await lockedDown(dir, await persisted(dir, recoveredVolumeRecord(name, createdAt), log), log));
    } else if (!(await removeHalfMade(dir))) {
      log.warn({ volume: name }, 'a directory in the volumes root is not a volume and was left alone');
      scan.unreadable.push(name);
    }
  }
  return scan;
}

async function dataState(data: string, mountinfo: string): Promise<DataState> {
  try {
    const info = await lstat(data);
    if (!info.isDirectory() || mountPointsWithin(data, mountinfo).length > 0) return 'holds-data';
    return (await readdir(data)).length === 0 ? 'empty' : 'holds-data';
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 'absent' : 'unreadable';
  }
}

/** Removes a create that never finished: an empty `_data` and the directory, only when they hold nothing else. */
async function removeHalfMade(dir: string): Promise<boolean> {
  try {
    if ((await readdir(dir)).some((entry) => entry !== '_data')) return false;
    await rmdir(join(dir, '_data')).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
    await rmdir(dir);
    return true;
  } catch {
    return false;
  }
}

async function removeTempRecords(dir: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (TEMP_RECORD.test(entry)) await unlink(join(dir, entry)).catch(() => undefined);
  }
}

/** Writes a recovered record so the next start finds a normal volume; kept in memory if that fails. */
async function persisted(dir: string, record: VolumeRecord, log: VolumeLog): Promise<VolumeRecord> {
  await writeFileAtomic(join(dir, 'volume.json'), JSON.stringify(record)).catch((err: unknown) => log.error({ volume: record.name, err }, 'could not write the recovered volume record'));
  return record;
}

/** Volume directories made by an older berth were 0755: a setuid file in `_data` was reachable by any user. */
async function lockedDown(dir: string, record: VolumeRecord, log: VolumeLog): Promise<VolumeRecord> {
  await chmod(dir, VOLUME_DIR_MODE).catch((err: unknown) => log.warn({ volume: record.name, err }, 'could not restrict the volume directory'));
  return record;
}
