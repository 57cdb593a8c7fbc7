/** What the container routes need from the engine. */
import type { ContainerConfigInput, ContainerRecord, HostConfigInput } from '../../containers/container-record.js';
import type { WaitCondition } from '../../containers/container-service.js';
import type { StdinRelay } from '../../runtime/conmon-stdin.js';
import type { PathStat } from '../../archive/go-file-mode.js';

export interface ContainerBackend {
  create(name: string | undefined, config: ContainerConfigInput, hostConfig: HostConfigInput): Promise<{ id: string; warnings: string[] }>;
  start(name: string): Promise<void>;
  stop(name: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void>;
  kill(name: string, signal: string | undefined): Promise<void>;
  wait(name: string, condition: WaitCondition, signal?: AbortSignal): Promise<number>;
  remove(name: string, options: { force: boolean; volumes?: boolean }): Promise<void>;
  get(name: string): ContainerRecord;
  list(): ContainerRecord[];
  inspect(name: string): Record<string, unknown>;
  summary(record: ContainerRecord): Record<string, unknown>;
  logPath(id: string): string;
  /** The log's files, oldest first (rotated ones, then the current). */
  logFiles(id: string): string[];
  /** Keeps the log from being removed while it is read; call the result when done. */
  holdLog(id: string): () => void;
  rename(name: string, newName: string): Promise<void>;
  setPaused(name: string, paused: boolean): Promise<void>;
  /** A writer to the container's stdin (queued until start), or undefined without OpenStdin. */
  openStdin(name: string): Promise<StdinRelay | undefined>;
  dropStdin(id: string, relay: StdinRelay): void;
  resize(name: string, height: number, width: number): Promise<void>;
  changes(name: string): Promise<{ Path: string; Kind: number }[]>;
  stats(name: string): Promise<Record<string, unknown>>;
  /** /system/df's Containers: each container's summary with SizeRw (its writable layer). */
  diskUsage(): Promise<Record<string, unknown>[]>;
  update(name: string, changes: Record<string, unknown>): Promise<string[]>;
  export(name: string): Promise<{ stream: NodeJS.ReadableStream; done: () => Promise<void> }>;
  prune(filters: { until?: number; labels: string[] }): Promise<{ deleted: string[]; reclaimed: number }>;
  commit(name: string, options: { repo?: string; tag?: string; author?: string; comment?: string; changes: string[]; pause: boolean }): Promise<string>;
  top(name: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  /** docker cp: a path's stat, a tar of it, and a tar extracted into a directory. */
  statPath(name: string, path: string): Promise<PathStat>;
  archivePath(name: string, path: string): Promise<{ stat: PathStat; stream: AsyncIterable<Buffer>; done: () => Promise<void> }>;
  extractToDir(name: string, path: string, body: AsyncIterable<Buffer>, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void>;
}
