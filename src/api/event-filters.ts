// Docker's `filters` of GET /events, matched as dockerd's events filter does: container and network
// by the actor's ID or name prefix, image by ID or name with or
// without its tag, every label given. Keys netctl has no events for are refused, not ignored.
import type { EngineEvent } from '../events/bus';
import { badRequest } from './errors';
import { type Filters, labelMatches, parseFilters } from './filters';

export const EVENT_FILTER_KEYS = ['container', 'event', 'image', 'label', 'network', 'scope', 'type'] as const;
const TYPES = ['container', 'image', 'network', 'volume', 'plugin', 'daemon', 'service', 'node', 'secret', 'config'];

export function parseEventFilters(text: string | null): Filters {
  const filters = parseFilters(text, EVENT_FILTER_KEYS);
  for (const type of filters.get('type') ?? []) {
    if (!TYPES.includes(type)) throw badRequest(`Invalid filter 'type=${type}': use one of ${TYPES.join(', ')}`);
  }
  return filters;
}

/** Docker's FuzzyMatch: no values, or one equal to `source` or a prefix of it. */
function fuzzy(values: readonly string[] | undefined, source: string | undefined): boolean {
  return values === undefined || (source !== undefined && values.some((v) => source.startsWith(v)));
}

const exact = (values: readonly string[] | undefined, ...sources: Array<string | undefined>): boolean => values === undefined || sources.some((s) => s !== undefined && values.includes(s));

/** "name:tag" without its tag ("host:5000/name" keeps its port). */
const stripTag = (name: string | undefined): string | undefined => name?.replace(/:[^:/]*$/, '');

export function eventMatches(event: EngineEvent, filters: Filters): boolean {
  const { ID: id, Attributes: attributes } = event.Actor;
  // As dockerd: by the actor's ID or name whatever the event's type.
  const byName = (key: string): boolean => fuzzy(filters.get(key), id) || fuzzy(filters.get(key), attributes['name']);
  const image = event.Type === 'image' ? attributes['name'] : attributes['image'];
  return (
    exact(filters.get('event'), event.Action) &&
    exact(filters.get('type'), event.Type) &&
    exact(filters.get('scope'), event.scope) &&
    byName('container') &&
    byName('network') &&
    exact(filters.get('image'), id, image, stripTag(id), stripTag(image)) &&
    (filters.get('label') ?? []).every((label) => labelMatches(attributes, label))
  );
}
