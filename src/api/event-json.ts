/** moby's events.Message on the wire, legacy status/id/from included; timeNano kept exact. */
import type { EngineEvent } from '../events/index.js';

export function eventToJson(event: EngineEvent): string {
  const legacy: Record<string, string> = {};
  if (event.Type === 'container' || event.Type === 'image') {
    legacy['status'] = event.Action;
    legacy['id'] = event.Actor.ID;
    const from = event.Type === 'container' ? event.Actor.Attributes['image'] : undefined;
    if (from !== undefined) legacy['from'] = from;
  }
  const body = JSON.stringify({
    ...legacy,
    Type: event.Type,
    Action: event.Action,
    Actor: event.Actor,
    scope: event.scope,
    time: Number(event.timeNano / 1_000_000_000n),
  });
  // JSON numbers are exact in text; only JavaScript's number type would round the nanoseconds.
  return `${body.slice(0, -1)},"timeNano":${event.timeNano.toString()}}`;
}
