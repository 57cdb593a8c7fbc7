/** What the image routes need from the engine. */
import type { Readable } from 'node:stream';
import type { DeleteItem, HistoryItem, ImageInspect, ImageSummary, ImportOptions, LoadedImage } from '../../images/index.js';

export interface ImageBackend {
  importImage(source: Readable, options: ImportOptions): Promise<string>;
  /** Throws (400) when repo/tag do not form a valid reference; before any byte is read. */
  checkImportTarget(repo: string | undefined, tag: string | undefined): void;
  load(source: Readable): Promise<LoadedImage[]>;
  save(names: readonly string[]): AsyncGenerator<Buffer>;
  list(options: { filters: ReadonlyMap<string, readonly string[]>; sharedSize: boolean; all?: boolean }): ImageSummary[];
  inspect(name: string): ImageInspect;
  history(name: string): HistoryItem[];
  tag(source: string, repo: string, tag: string | undefined): Promise<void>;
  remove(name: string, options: { force: boolean }): Promise<DeleteItem[]>;
  prune(filters: ReadonlyMap<string, readonly string[]>): Promise<{ ImagesDeleted: DeleteItem[]; SpaceReclaimed: number }>;
  diskUsage(): { LayersSize: number; Images: ImageSummary[] };
}
