/**
 * Where a container's network namespace lives while it runs on a network (iproute2's netns
 * directory), named per daemon: `berth-<id>` for the daemon on the default bridge, and
 * `berth-<bridge>-<id>` for one on another bridge, so the start-up reconcile of one daemon can
 * tell its own namespaces from those of daemons running beside it.
 */
import { join } from 'node:path';

export const NAMESPACE_DIR = '/run/netns';
export const DEFAULT_BRIDGE = 'berth0';

const CONTAINER_ID = /^[0-9a-f]{64}$/;

export class SandboxNames {
  private readonly prefix: string;

  constructor(bridge: string) {
    this.prefix = bridge === DEFAULT_BRIDGE ? 'berth-' : `berth-${bridge}-`;
  }

  name(containerId: string): string {
    return `${this.prefix}${containerId}`;
  }

  path(containerId: string): string {
    return join(NAMESPACE_DIR, this.name(containerId));
  }

  /** The container a namespace name belongs to, when it is one of this daemon's. */
  containerOf(name: string): string | undefined {
    if (!name.startsWith(this.prefix)) return undefined;
    const id = name.slice(this.prefix.length);
    return CONTAINER_ID.test(id) ? id : undefined;
  }
}
