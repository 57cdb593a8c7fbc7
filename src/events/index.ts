export { EventBus, type EventSubscription } from './event-bus.js';
export { EVENT_FILTER_KEYS, matchesEventFilters, validateEventFilters, type EventFilters } from './event-filter.js';
export { EVENT_TYPES, type EngineEvent, type EventActor, type EventType, type NewEvent } from './engine-event.js';
