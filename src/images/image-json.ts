/** Images in the Docker Engine API's shapes (ImageSummary, ImageInspect, HistoryResponseItem). */
import type { Schemas } from '../api/types/index.js';
import type { operations } from '../api/types/docker-engine.js';
import type { ImageConfig } from '../oci/index.js';
import type { ImageRecord } from './image-record.js';

export type ImageSummary = Schemas['ImageSummary'];
export type ImageInspect = Schemas['ImageInspect'];
export type HistoryItem = operations['ImageHistory']['responses'][200]['content']['application/json'][number];

export function createdSeconds(config: ImageConfig): number {
  const ms = config.created ? Date.parse(config.created) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export function toImageSummary(record: ImageRecord, config: ImageConfig, repoTags: string[], options: { sharedSize?: number; containers?: number } = {}): ImageSummary {
  return {
    Id: record.id,
    ParentId: '',
    RepoTags: repoTags,
    RepoDigests: record.repoDigests,
    Created: createdSeconds(config),
    Size: record.size,
    SharedSize: options.sharedSize ?? -1,
    Labels: config.config?.Labels ?? {},
    Containers: options.containers ?? -1,
    Descriptor: { mediaType: record.manifest.mediaType, digest: record.manifest.digest, size: record.manifest.size },
  };
}

/**
 * The full inspect answer: the newest API version's shape plus the fields older versions show;
 * the API layer shapes it for the version a client asks for.
 */
export function toImageInspect(record: ImageRecord, config: ImageConfig, repoTags: string[], graphDriverData: Record<string, string>): ImageInspect {
  const c = config.config ?? {};
  return {
    Id: record.id,
    RepoTags: repoTags,
    RepoDigests: record.repoDigests,
    Parent: '',
    Comment: config.comment ?? config.history?.[config.history.length - 1]?.comment ?? '',
    Created: config.created ?? '',
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: {
      User: c.User ?? '',
      ExposedPorts: c.ExposedPorts ?? null,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      Healthcheck: c.Healthcheck,
      ArgsEscaped: c.ArgsEscaped,
      Volumes: c.Volumes ?? null,
      WorkingDir: c.WorkingDir ?? '',
      Entrypoint: c.Entrypoint ?? null,
      OnBuild: c.OnBuild ?? null,
      Labels: c.Labels ?? null,
      StopSignal: c.StopSignal,
      Shell: c.Shell,
    } as ImageInspect['Config'],
    Architecture: config.architecture,
    Variant: config.variant,
    Os: config.os,
    OsVersion: config['os.version'],
    Size: record.size,
    GraphDriver: { Name: 'overlayfs', Data: graphDriverData },
    RootFS: { Type: 'layers', Layers: record.diffIds },
    Metadata: { LastTagTime: record.lastTagTime ?? '0001-01-01T00:00:00Z' },
    Descriptor: { mediaType: record.manifest.mediaType, digest: record.manifest.digest, size: record.manifest.size },
    // Shown to API 1.44 and older only (src/api/versioned-responses.ts drops them for newer clients).
    Container: config.container ?? '',
    ContainerConfig: config.container_config,
  } as ImageInspect;
}

/** History newest first; the top entry carries the image ID and tags, the rest "<missing>". */
export function toHistory(record: ImageRecord, config: ImageConfig, repoTags: string[], layerSizes: number[], ancestors: ({ id: string; tags: string[] } | undefined)[] = []): HistoryItem[] {
  const entries = config.history?.length
    ? config.history
    : record.diffIds.map(() => ({ created: config.created, created_by: '', comment: '', empty_layer: false }));
  let layer = 0;
  const items = entries.map((entry, index) => {
    const size = entry.empty_layer ? 0 : (layerSizes[layer++] ?? 0);
    const ms = entry.created ? Date.parse(entry.created) : NaN;
    const ancestor = ancestors[index];
    return {
      Id: ancestor?.id ?? '<missing>',
      Created: Number.isNaN(ms) ? 0 : Math.floor(ms / 1000),
      CreatedBy: entry.created_by ?? '',
      Tags: (ancestor?.tags.length ? ancestor.tags : null) as string[] | null,
      Size: size,
      Comment: entry.comment ?? '',
    };
  });
  items.reverse();
  if (items[0]) {
    items[0].Id = record.id;
    items[0].Tags = repoTags.length ? repoTags : null;
  }
  return items as HistoryItem[];
}
