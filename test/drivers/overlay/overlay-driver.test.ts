// The overlay driver's bookkeeping, before any data plane exists on the host (no endpoint joined,
// so no kernel object is touched): VNI allocation, the table it registers, peers it keeps.
import test from 'ava';
import type { NetworkSpec, TableEvent } from '../../../src/drivers/driver';
import { InvalidOptionError } from '../../../src/drivers/driver';
import { OverlayDriver } from '../../../src/drivers/overlay/overlay-driver';
import { encodeEndpointRecord, type EndpointRecord } from '../../../src/drivers/overlay/peer-codec';
import type { NetlinkHandle } from '../../../src/netlink';
import type { Logger } from '../../../src/util/logger';

const SELF = '192.168.1.1';

function setup() {
  const calls: string[] = [];
  const warnings: Array<Record<string, unknown>> = [];
  const log = { debug: () => undefined, info: () => undefined, warn: (fields: Record<string, unknown>) => void warnings.push(fields), error: () => undefined } as unknown as Logger;
  const driver = new OverlayDriver({
    log,
    netlink: {} as NetlinkHandle,
    advertiseAddress: SELF,
    namespaceDir: '/nonexistent',
    vniAllocator: {
      allocateVni: async (id, requested) => (calls.push(`allocate ${id} ${requested ?? '-'}`), requested ?? 4096),
      releaseVni: async (id) => void calls.push(`release ${id}`),
    },
  });
  const spec: NetworkSpec = { id: 'n1', name: 'ov', options: { 'com.docker.network.driver.overlay.vxlanid_list': '5000' }, internal: false, enableIPv6: false, ipv4: [], ipv6: [] };
  return { driver, spec, calls, warnings };
}

const event = (type: TableEvent['type'], key: string, record: Partial<EndpointRecord>): TableEvent => ({
  type, networkId: 'n1', table: 'endpoint_table', key,
  value: encodeEndpointRecord({ endpointId: key, name: '', aliases: [], ipv4: '10.0.0.2/24', mac: '02:42:0a:00:00:02', vtep: '192.168.1.2', ...record }),
});

test('a network takes its VNI from the allocator and registers endpoint_table; deleting it releases the VNI', async (t) => {
  const { driver, spec, calls } = setup();
  const tables: string[] = [];
  await driver.createNetwork(spec, { registerTable: (name) => tables.push(name) });
  t.deepEqual(tables, ['endpoint_table']);
  t.deepEqual(driver.effectiveOptions({ ...spec, options: {} }), { 'com.docker.network.driver.overlay.vxlanid_list': '5000' }, 'its VNI in the options, as Docker shows it');
  await driver.deleteNetwork(spec);
  t.deepEqual(driver.effectiveOptions({ ...spec, options: {} }), {});
  t.deepEqual(calls, ['allocate n1 5000', 'release n1']);
  t.deepEqual(driver.capability, { dataScope: 'global', connectivityScope: 'global', createsInSandbox: false });
  t.throws(() => driver.validateOptions({ bogus: '1' }), { instanceOf: InvalidOptionError });
});

test('peers: own entries ignored, updates replace, deletes and dead hosts remove', async (t) => {
  const { driver, spec } = setup();
  await driver.createNetwork(spec, { registerTable: () => undefined });
  for (const address of [SELF, '192.168.1.2', '192.168.1.3', '192.168.1.4']) await driver.discoverNew({ address, self: address === SELF });
  await driver.eventNotify(event('create', 'own', { vtep: SELF }));
  await driver.eventNotify(event('create', 'a', {}));
  await driver.eventNotify(event('create', 'b', { ipv4: '10.0.0.3/24', mac: '02:42:0a:00:00:03', vtep: '192.168.1.3' }));
  await driver.eventNotify({ ...event('create', 'x', {}), table: 'other_table' });
  t.deepEqual(driver.peersOf('n1'), [{ ip: '10.0.0.2', mac: '02:42:0a:00:00:02', vtep: '192.168.1.2' }, { ip: '10.0.0.3', mac: '02:42:0a:00:00:03', vtep: '192.168.1.3' }]);
  await driver.eventNotify(event('update', 'a', { vtep: '192.168.1.4' }));
  t.is(driver.peersOf('n1')[0]?.vtep, '192.168.1.4');
  await driver.eventNotify(event('delete', 'a', {}));
  t.deepEqual(driver.peersOf('n1').map((p) => p.ip), ['10.0.0.3']);
  await driver.eventNotify(event('update', 'b', { ipv4: '10.0.0.3/24', ipv6: 'fd00::3/64', mac: '02:42:0a:00:00:03', vtep: '192.168.1.3' }));
  t.deepEqual(driver.peersOf('n1').map((p) => p.ip), ['10.0.0.3', 'fd00::3'], 'a peer per address');
  await driver.discoverDelete({ address: '192.168.1.3', self: false });
  t.deepEqual(driver.peersOf('n1'), []);
  await t.throwsAsync(driver.eventNotify({ ...event('create', 'c', {}), value: Buffer.from('junk') }), { message: /not JSON/ });
});

test('an endpoint_table entry names its endpoint for the DNS: name, aliases, bare addresses; a nameless one or another table names nothing', (t) => {
  const { driver } = setup();
  const value = (record: Partial<EndpointRecord>): Buffer => event('create', 'ep', record).value;
  t.deepEqual(driver.namesIn('endpoint_table', value({ name: 'web', aliases: ['www'], ipv6: 'fd00::2/64' })), { name: 'web', aliases: ['www'], ipv4: '10.0.0.2', ipv6: 'fd00::2' });
  t.is(driver.namesIn('endpoint_table', value({ name: '' })), undefined);
  t.is(driver.namesIn('other_table', value({ name: 'web' })), undefined);
  t.throws(() => driver.namesIn('endpoint_table', Buffer.from('{}')), { message: /endpoint record/ });
});

test('an entry naming a VTEP that is not a cluster member is ignored, counted and logged; programmed once that host joins, dropped if it is declared dead', async (t) => {
  const { driver, spec, warnings } = setup();
  await driver.createNetwork(spec, { registerTable: () => undefined });
  await driver.discoverNew({ address: SELF, self: true });
  await driver.discoverNew({ address: '192.168.1.2', self: false });
  await driver.eventNotify(event('create', 'a', {}));
  await driver.eventNotify(event('create', 'stray', { ipv4: '10.0.0.9/24', mac: '02:42:0a:00:00:09', vtep: '203.0.113.9' }));
  t.deepEqual(driver.peersOf('n1').map((p) => p.vtep), ['192.168.1.2'], 'the outsider is not a peer');
  t.is(driver.ignoredEntries, 1);
  t.like(warnings[0], { network: 'n1', endpoint: 'stray', vtep: '203.0.113.9', ignoredEntries: 1 });

  // A member's entry moving to an outside VTEP loses its peer too.
  await driver.eventNotify(event('update', 'a', { vtep: '203.0.113.10' }));
  t.deepEqual(driver.peersOf('n1'), []);
  t.is(driver.ignoredEntries, 2);

  await driver.discoverNew({ address: '203.0.113.9', self: false });
  t.deepEqual(driver.peersOf('n1').map((p) => `${p.ip}@${p.vtep}`), ['10.0.0.9@203.0.113.9'], 'its host joined the cluster: programmed');
  await driver.discoverDelete({ address: '203.0.113.10', self: false });
  await driver.discoverNew({ address: '203.0.113.10', self: false });
  t.deepEqual(driver.peersOf('n1').map((p) => p.vtep), ['203.0.113.9'], 'an entry held for a host declared dead is dropped with it');
  await driver.eventNotify(event('delete', 'stray', {}));
  t.deepEqual(driver.peersOf('n1'), []);
  t.is(driver.ignoredEntries, 2);
});
