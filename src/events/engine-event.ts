/** An event as moby's events.Message carries it; timeNano is exact (bigint). */
export type EventType = 'builder' | 'config' | 'container' | 'daemon' | 'image' | 'network' | 'node' | 'plugin' | 'secret' | 'service' | 'volume';

export const EVENT_TYPES: readonly EventType[] = ['builder', 'config', 'container', 'daemon', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'volume'];

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: EventActor;
  scope: 'local' | 'swarm';
  timeNano: bigint;
}

/** What a service publishes; the bus stamps the time. */
export type NewEvent = Omit<EngineEvent, 'timeNano' | 'scope'> & { scope?: 'local' | 'swarm' };
