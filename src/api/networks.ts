// The Docker Engine API's network routes over the controller.
import { type Controller, type NetworkRecord, shownScope } from '../controller';
import { badRequest } from './errors';
import { type Filters, labelMatches, parseBoolFilter, parseFilters, pruneFilter } from './filters';
import { networkJson, parseCreateRequest } from './network-json';
import type { Router } from './router';

const LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;
const PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

/** A network passes when, for every filter key, one of its values matches (Docker's semantics). */
function listFilter(filters: Filters, inUse: (n: NetworkRecord) => boolean): (network: NetworkRecord) => boolean {
  const tests: Array<(n: NetworkRecord) => boolean> = [];
  const any = (key: string, test: (n: NetworkRecord, value: string) => boolean): void => {
    const values = filters.get(key);
    if (values && values.length > 0) tests.push((n) => values.some((v) => test(n, v)));
  };
  any('driver', (n, v) => n.driver === v);
  any('id', (n, v) => n.id.startsWith(v));
  any('name', (n, v) => n.name.includes(v));
  any('label', (n, v) => labelMatches(n.labels, v));
  any('scope', (n, v) => shownScope(n) === v);
  any('type', (n, v) => {
    if (v !== 'custom' && v !== 'builtin') throw badRequest(`invalid value "${v}" for filter 'type': use custom or builtin`);
    return n.predefined === (v === 'builtin');
  });
  // Dangling: no container attached; predefined networks are never dangling.
  any('dangling', (n, v) => (!n.predefined && !inUse(n)) === parseBoolFilter('dangling', v));
  return (n) => tests.every((test) => test(n));
}

export function addNetworkRoutes(router: Router, controller: Controller): void {
  router.add('GET', '/networks', (request) => {
    const keep = listFilter(parseFilters(request.query.get('filters'), LIST_FILTERS), (n) => controller.endpoints({ networkId: n.id }).length > 0);
    return { status: 200, body: controller.list().filter(keep).map((n) => networkJson(n)) };
  });

  router.add('GET', '/networks/{id}', (request) => {
    const network = controller.find(request.params['id']!);
    const endpoints = controller.endpoints({ networkId: network.id }).map((endpoint) => ({ endpoint, sandbox: controller.sandbox(endpoint.sandboxId) }));
    const failure = controller.failure(network.id);
    // Not a Docker field: why a network could not be brought back at start (it takes no containers).
    return { status: 200, body: { ...networkJson(network, endpoints, controller.peers(network.id)), ...(failure !== undefined ? { Error: failure } : {}) } };
  });

  router.add('POST', '/networks/create', async (request) => {
    const network = await controller.create(parseCreateRequest(await request.json()));
    return { status: 201, body: { Id: network.id, Warning: '' } };
  });

  router.add('DELETE', '/networks/{id}', async (request) => {
    await controller.delete(request.params['id']!);
    return { status: 204 };
  });

  router.add('POST', '/networks/prune', async (request) => {
    const matches = pruneFilter(parseFilters(request.query.get('filters'), PRUNE_FILTERS));
    const keep = (n: NetworkRecord): boolean => matches(n.created, n.labels);
    return { status: 200, body: { NetworksDeleted: await controller.prune(keep) } };
  });
}
