// The overlay driver's bookkeeping, before any data plane exists on the host (no endpoint joined,
// so no kernel object is touched): VNI allocation, the table it registers, peers it keeps.
import test, { type ExecutionContext } from 'ava';
import type { NetworkSpec, TableEvent } from '../../../src/drivers/driver';
import { InvalidOptionError } from '../../../src/drivers/driver';
import { OverlayDriver } from '../../../src/drivers/overlay/overlay-driver';
import { encodeEndpointRecord, type EndpointRecord } from '../../../src/drivers/overlay/peer-codec';
import { VniAllocator } from '../../../src/ipam';
import type { NetlinkHandle } from '../../../src/netlink';
import { LocalStore } from '../../../src/store/sqlite';

const SELF = '192.168.1.1';

function setup(t: ExecutionContext) {
  const store = new LocalStore(':memory:');
  t.teardown(() => store.close());
  const vnis = new VniAllocator(store);
  const driverOn = (advertiseAddress: string) => new OverlayDriver({ netlink: {} as NetlinkHandle, advertiseAddress, namespaceDir: '/nonexistent', vniAllocator: vnis });
  const spec: NetworkSpec = { id: 'n1', name: 'ov', options: { 'com.docker.network.driver.overlay.vxlanid_list': '5000' }, internal: false, enableIPv6: false, ipv4: [], ipv6: [] };
  return { driver: driverOn(SELF), driverOn, spec, vnis };
}

const event = (type: TableEvent['type'], key: string, record: Partial<EndpointRecord>): TableEvent => ({
  type, networkId: 'n1', table: 'endpoint_table', key,
  value: encodeEndpointRecord({ endpointId: key, name: '', aliases: [], ipv4: '10.0.0.2/24', mac: '02:42:0a:00:00:02', vtep: '192.168.1.2', ...record }),
});

test('a network takes its VNI from the cluster allocator, the same on every host, and registers endpoint_table; deleting it releases the VNI', async (t) => {
  const { driver, driverOn, spec, vnis } = setup(t);
  const tables: string[] = [];
  await driver.createNetwork(spec, { registerTable: (name) => tables.push(name) });
  await driverOn('192.168.1.2').createNetwork(spec, { registerTable: () => undefined });
  t.deepEqual(tables, ['endpoint_table']);
  t.is(await vnis.holder(5000), 'n1');
  const dynamic = { ...spec, id: 'n2', options: {} };
  await driver.createNetwork(dynamic, { registerTable: () => undefined });
  await driverOn('192.168.1.2').createNetwork(dynamic, { registerTable: () => undefined });
  t.is(await vnis.holder(4096), 'n2');
  t.is(await vnis.holder(4097), undefined);
  await driver.deleteNetwork(spec);
  t.is(await vnis.holder(5000), undefined);
  // A host that never created a network it deletes still gives back the VNI it asked for.
  await driverOn('192.168.1.3').createNetwork(spec, { registerTable: () => undefined });
  await driverOn('192.168.1.4').deleteNetwork(spec);
  t.is(await vnis.holder(5000), undefined);
  t.deepEqual(driver.capability, { dataScope: 'global', connectivityScope: 'global', createsInSandbox: false });
  t.throws(() => driver.validateOptions({ bogus: '1' }), { instanceOf: InvalidOptionError });
});

test('peers: own entries ignored, updates replace, deletes and dead hosts remove', async (t) => {
  const { driver, spec } = setup(t);
  await driver.createNetwork(spec, { registerTable: () => undefined });
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
