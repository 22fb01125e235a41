// Docker's `filters` query parameter: JSON mapping a key to its values, either as
// {"name": {"web": true}} (the form Docker clients send) or {"name": ["web"]}.
import { badRequest } from './errors';

export type Filters = Map<string, string[]>;

export function parseFilters(text: string | null, allowed: readonly string[]): Filters {
  const filters: Filters = new Map();
  if (text === null || text.trim() === '') return filters;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`invalid filters ${JSON.stringify(text)}: expected JSON such as {"name":{"web":true}}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('invalid filters: expected a JSON object of filter names');
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw badRequest(`Invalid filter '${key}'; valid filters: ${allowed.join(', ')}`);
    const values = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? Object.keys(value) : undefined;
    if (!values || !values.every((v) => typeof v === 'string')) throw badRequest(`invalid values of filter '${key}': expected a list of strings`);
    filters.set(key, values as string[]);
  }
  return filters;
}

/** label=KEY or label=KEY=VALUE against a label map. */
export function labelMatches(labels: Readonly<Record<string, string>>, wanted: string): boolean {
  const eq = wanted.indexOf('=');
  if (eq === -1) return Object.hasOwn(labels, wanted);
  return labels[wanted.slice(0, eq)] === wanted.slice(eq + 1);
}

/** Docker's boolean filter values. */
export function parseBoolFilter(key: string, value: string): boolean {
  if (['1', 'true', 'True', 'TRUE'].includes(value)) return true;
  if (['0', 'false', 'False', 'FALSE'].includes(value)) return false;
  throw badRequest(`invalid value "${value}" for filter '${key}': use true or false`);
}

/** `until`: a Unix timestamp (seconds, may have a fraction), an RFC 3339 date, or a duration ago like "24h". */
export function parseUntil(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (duration) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[duration[2] as 'ms' | 's' | 'm' | 'h'];
    return now - Number(duration[1]) * unit;
  }
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return date;
  throw badRequest(`invalid value "${value}" for filter 'until': use a Unix timestamp, an RFC 3339 date or a duration such as 24h`);
}

/** A prune's `until`, `label` and `label!` filters, over what was created when and with which labels. */
export function pruneFilter(filters: Filters): (created: string, labels: Readonly<Record<string, string>>) => boolean {
  const until = filters.get('until') ?? [];
  if (until.length > 1) throw badRequest("filter 'until' takes one value");
  const cutoff = until.length === 1 ? parseUntil(until[0]!) : undefined;
  const wanted = filters.get('label') ?? [];
  const unwanted = filters.get('label!') ?? [];
  return (created, labels) =>
    (cutoff === undefined || Date.parse(created) < cutoff) && wanted.every((l) => labelMatches(labels, l)) && !unwanted.some((l) => labelMatches(labels, l));
}
