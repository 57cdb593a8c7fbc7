/** What the system routes need from the engine; the daemon's composition root provides it. */
import type { EngineEvent, EventSubscription } from '../../events/index.js';
import type { SystemInfo, SystemVersion } from '../types/index.js';

export interface SystemBackend {
  version(): SystemVersion;
  info(): SystemInfo | Promise<SystemInfo>;
  subscribeEvents(subscription: EventSubscription): AsyncIterable<EngineEvent>;
}
