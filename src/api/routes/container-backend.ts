/** What the container routes need from the engine. */
import type { ContainerConfigInput, ContainerRecord, HostConfigInput } from '../../containers/container-record.js';
import type { WaitCondition } from '../../containers/container-service.js';

export interface ContainerBackend {
  create(name: string | undefined, config: ContainerConfigInput, hostConfig: HostConfigInput): Promise<{ id: string; warnings: string[] }>;
  start(name: string): Promise<void>;
  stop(name: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void>;
  kill(name: string, signal: string | undefined): Promise<void>;
  wait(name: string, condition: WaitCondition): Promise<number>;
  remove(name: string, options: { force: boolean }): Promise<void>;
  get(name: string): ContainerRecord;
  list(): ContainerRecord[];
  inspect(name: string): Record<string, unknown>;
  summary(record: ContainerRecord): Record<string, unknown>;
  logPath(id: string): string;
  /** Keeps the log from being removed while it is read; call the result when done. */
  holdLog(id: string): () => void;
  rename(name: string, newName: string): Promise<void>;
  setPaused(name: string, paused: boolean): Promise<void>;
}
