/** Where a container's network namespace lives while it runs on a network (iproute2's netns directory). */
import { join } from 'node:path';

export const NAMESPACE_DIR = '/run/netns';

/** berth-<full container id>: unique across daemons on one host. */
export function sandboxName(containerId: string): string {
  return `berth-${containerId}`;
}

export function sandboxPath(containerId: string): string {
  return join(NAMESPACE_DIR, sandboxName(containerId));
}
