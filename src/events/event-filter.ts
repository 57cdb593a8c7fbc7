/** Docker's `events` filters: which keys exist and how each matches an event. */
import { InvalidArgumentError } from '../lib/errors.js';
import { EVENT_TYPES, type EngineEvent } from './engine-event.js';

export const EVENT_FILTER_KEYS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'] as const;

export type EventFilters = ReadonlyMap<string, readonly string[]>;

export function validateEventFilters(filters: EventFilters): void {
  for (const type of filters.get('type') ?? []) {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new InvalidArgumentError(`invalid filter 'type=${type}'`);
  }
  for (const scope of filters.get('scope') ?? []) {
    if (scope !== 'local' && scope !== 'swarm') throw new InvalidArgumentError(`invalid filter 'scope=${scope}'`);
  }
}

/** True when the event passes every filter key (values of one key are alternatives). */
export function matchesEventFilters(event: EngineEvent, filters: EventFilters): boolean {
  const anyOf = (key: string, test: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.length === 0 || values.some(test);
  };
  const name = event.Actor.Attributes['name'];
  const byIdOrName = (type: EngineEvent['Type']) => (value: string) =>
    event.Type === type && (event.Actor.ID === value || event.Actor.ID.startsWith(value) || name === value);
  return (
    anyOf('type', (v) => event.Type === v) &&
    anyOf('event', (v) => event.Action === v || event.Action.split(':')[0] === v) &&
    anyOf('scope', (v) => event.scope === v) &&
    anyOf('container', byIdOrName('container')) &&
    anyOf('network', byIdOrName('network')) &&
    anyOf('volume', byIdOrName('volume')) &&
    anyOf('plugin', byIdOrName('plugin')) &&
    anyOf('daemon', byIdOrName('daemon')) &&
    anyOf('image', (v) => {
      const image = event.Type === 'image' ? (name ?? event.Actor.ID) : event.Actor.Attributes['image'];
      return event.Actor.ID === v || image === v || stripTag(image) === v;
    }) &&
    anyOf('label', (v) => {
      const eq = v.indexOf('=');
      if (eq === -1) return v in event.Actor.Attributes;
      return event.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
    }) &&
    anyOf('service', () => false) &&
    anyOf('node', () => false) &&
    anyOf('secret', () => false) &&
    anyOf('config', () => false)
  );
}

function stripTag(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
}
