// Docker's `filters` of GET /containers/json. A filtered list that ignored a key would let
// `docker rm -f $(docker ps -aq -f ...)` remove every container, so unknown keys are refused.
import { parseReference, tagged } from '../images';
import { type ContainerRecord, dockerStatus } from '../launcher';
import type { Attachment } from './container-json';
import { badRequest } from './errors';
import { type Filters, labelMatches, parseFilters } from './filters';

export const CONTAINER_FILTER_KEYS = ['id', 'name', 'label', 'status', 'network', 'ancestor', 'exited'] as const;
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export function parseContainerFilters(text: string | null): Filters {
  const filters = parseFilters(text, CONTAINER_FILTER_KEYS);
  for (const status of filters.get('status') ?? []) {
    if (!STATUSES.includes(status)) throw badRequest(`Invalid filter 'status=${status}': use one of ${STATUSES.join(', ')}`);
  }
  for (const code of filters.get('exited') ?? []) {
    if (!/^-?\d+$/.test(code)) throw badRequest(`Invalid filter 'exited=${code}': expected an exit code (an integer)`);
  }
  return filters;
}

/** Whether a container passes every filter key (any of a key's values may match, as Docker). */
export function containerMatches(container: ContainerRecord, attachments: readonly Attachment[], filters: Filters, labels: Readonly<Record<string, string>> = {}): boolean {
  const any = (key: string, test: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.some(test);
  };
  // label: every value must match, as Docker requires all labels given.
  const labelValues = filters.get('label') ?? [];
  return (
    any('id', (v) => container.id.startsWith(v)) &&
    any('name', (v) => matchesName(container.config.name, v)) &&
    labelValues.every((v) => labelMatches(labels, v)) &&
    any('status', (v) => dockerStatus(container.state) === v) &&
    any('network', (v) => attachments.some(({ network }) => network !== undefined && (network.name === v || network.id.startsWith(v)))) &&
    any('ancestor', (v) => imageName(v) === imageName(container.config.image ?? 'busybox')) &&
    any('exited', (v) => dockerStatus(container.state) === 'exited' && container.state.exitCode === Number(v))
  );
}

/** An image reference as "name:tag", or as given when it is no name. */
function imageName(reference: string): string {
  try {
    return tagged(parseReference(reference));
  } catch {
    return reference;
  }
}

/** Docker matches `name` as a regular expression against "/name"; a bad pattern matches as text. */
function matchesName(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(`/${name}`);
  } catch {
    return `/${name}`.includes(pattern);
  }
}
