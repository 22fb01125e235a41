// Networks as the API shows them: Docker's Scope "swarm" for overlay networks, and inspect's Peers.
import test from 'ava';
import { networkJson } from '../../src/api/network-json';
import type { NetworkRecord } from '../../src/controller';

const record = (driver: string, scope: NetworkRecord['scope']): NetworkRecord => ({
  id: 'a'.repeat(64), name: 'n', driver, scope, created: '2026-01-01T00:00:00.000Z', internal: false, attachable: true, enableIPv6: false, predefined: false,
  options: {}, labels: {}, ipam: { driver: 'default', options: {}, config: [] }, allocations: [],
});

test('overlay networks show Scope "swarm", as Docker\'s; other drivers their data scope', (t) => {
  t.is(networkJson(record('overlay', 'global'))['Scope'], 'swarm');
  t.is(networkJson(record('gtest', 'global'))['Scope'], 'global');
  t.is(networkJson(record('bridge', 'local'))['Scope'], 'local');
});

test('Peers as Docker lists them, and left out when no host is on the network', (t) => {
  const peers = [{ name: 'host-a', address: '10.0.0.1' }, { name: 'host-b', address: '10.0.0.2' }];
  t.deepEqual(networkJson(record('overlay', 'global'), [], peers)['Peers'], [{ Name: 'host-a', IP: '10.0.0.1' }, { Name: 'host-b', IP: '10.0.0.2' }]);
  t.false('Peers' in networkJson(record('overlay', 'global')));
});
