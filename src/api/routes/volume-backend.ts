/** What the volume routes need from the engine. */
export interface VolumeBackend {
  list(): Record<string, unknown>[];
  inspect(name: string): Record<string, unknown>;
  create(request: { name?: string; driver?: string; options: Record<string, string>; labels: Record<string, string> }): Promise<Record<string, unknown>>;
  remove(name: string, options: { force: boolean }): Promise<void>;
  prune(options: { all: boolean; labels: string[] }): Promise<{ deleted: string[]; reclaimed: number }>;
  inUse(name: string): boolean;
  /** /system/df's Volumes: each volume with UsageData (Size, RefCount). */
  usage(): Promise<Record<string, unknown>[]>;
}
