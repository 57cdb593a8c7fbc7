/**
 * In-memory event log and fan-out: services publish, `GET /events` subscribes. Like dockerd it
 * keeps the most recent events (256) so `--since` can replay them.
 */
import type { Clock } from '../lib/clock.js';
import type { EngineEvent, NewEvent } from './engine-event.js';
import { matchesEventFilters, type EventFilters } from './event-filter.js';

export interface EventSubscription {
  since?: bigint;
  until?: bigint;
  filters: EventFilters;
  signal?: AbortSignal;
}

type Listener = (event: EngineEvent) => void;

export class EventBus {
  private readonly recent: EngineEvent[] = [];
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly clock: Clock,
    private readonly capacity = 256,
  ) {}

  /** Clients following the live stream right now (`NEventsListener` in /info). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(event: NewEvent): EngineEvent {
    const stamped: EngineEvent = { ...event, scope: event.scope ?? 'local', timeNano: this.clock.nowNs() };
    this.recent.push(stamped);
    if (this.recent.length > this.capacity) this.recent.shift();
    for (const listener of this.listeners) listener(stamped);
    return stamped;
  }

  /**
   * Replays remembered events from `since`, then follows live ones until `until` passes or the
   * signal aborts. With `until` in the past it ends after the replay.
   */
  async *subscribe(options: EventSubscription): AsyncGenerator<EngineEvent> {
    const { since, until, filters, signal } = options;
    const inWindow = (e: EngineEvent) => (since === undefined || e.timeNano >= since) && (until === undefined || e.timeNano <= until);
    const pending: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const finish = () => {
      done = true;
      wake?.();
    };
    const listener: Listener = (event) => {
      if (inWindow(event) && matchesEventFilters(event, filters)) {
        pending.push(event);
        wake?.();
      }
    };
    const replay = since === undefined ? [] : this.recent.filter((e) => inWindow(e) && matchesEventFilters(e, filters));
    const now = this.clock.nowNs();
    if (until !== undefined && until <= now) {
      yield* replay;
      return;
    }
    this.listeners.add(listener);
    const timer = until === undefined ? undefined : setTimeout(finish, Number((until - now) / 1_000_000n) + 1);
    signal?.addEventListener('abort', finish, { once: true });
    try {
      yield* replay;
      while (!done || pending.length > 0) {
        const next = pending.shift();
        if (next) {
          yield next;
          continue;
        }
        if (signal?.aborted) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.listeners.delete(listener);
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
    }
  }
}
