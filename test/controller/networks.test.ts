// The core's network transactions over a scripted driver and an in-memory store, without root:
// what the driver is told, and a failure at each step leaving nothing (pools, record, name).
import test from 'ava';
import { ForbiddenError, InvalidParameterError } from '../../src/controller';
import { InvalidOptionError, type NetworkSpec } from '../../src/drivers/driver';
import { LOCAL_SPACE } from '../../src/ipam';
import { parseNetworkRecord } from '../../src/controller/network-record';
import { openCore } from '../helpers/core';
import { ScriptedDriver, ScriptedFailure } from '../helpers/scripted-driver';

test('a create tells the driver the network as the core named, numbered and addressed it; a delete undoes it', async (t) => {
  const driver = new ScriptedDriver();
  const { controller, store, ipam } = await openCore(t, { drivers: [driver] });
  driver.clearCalls();
  const record = await controller.create({ name: 'n1', driver: 'scripted', internal: true, enableIPv6: true, options: { mode: 'x' }, ipam: { config: [{ subnet: '10.7.0.0/24' }, { subnet: 'fd07::/64' }] } });
  t.deepEqual(driver.sequence(), ['validateOptions', 'createNetwork']);
  t.deepEqual(driver.calls[0]!.args[0], { mode: 'x' });
  const spec = driver.calls[1]!.args[0] as NetworkSpec;
  t.deepEqual(spec, {
    id: record.id,
    name: 'n1',
    options: { mode: 'x' },
    internal: true,
    enableIPv6: true,
    ipv4: [{ addressSpace: LOCAL_SPACE, pool: '10.7.0.0/24', gateway: '10.7.0.1/24', auxAddresses: {} }],
    ipv6: [{ addressSpace: LOCAL_SPACE, pool: 'fd07::/64', gateway: 'fd07::1/64', auxAddresses: {} }],
  });
  t.regex(record.id, /^[0-9a-f]{64}$/);
  t.deepEqual((await store.list('networks/')).map((e) => e.key), [`networks/${record.id}`]);

  await controller.delete('n1');
  t.deepEqual(driver.sequence(), ['validateOptions', 'createNetwork', 'deleteNetwork']);
  t.is((driver.calls[2]!.args[0] as NetworkSpec).id, record.id);
  t.deepEqual(await store.list('networks/'), []);
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
});

test('a driver that takes no IPAM gets no pools, and has one network at most', async (t) => {
  const driver = new ScriptedDriver({ type: 'hostlike', usesIpam: false });
  const { controller, ipam } = await openCore(t, { drivers: [driver] });
  driver.clearCalls();
  const record = await controller.create({ name: 'h', driver: 'hostlike' });
  t.deepEqual(record.allocations, []);
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
  await t.throwsAsync(controller.create({ name: 'h2', driver: 'hostlike' }), { instanceOf: ForbiddenError, message: 'only one instance of "hostlike" network is allowed' });
});

test('options the driver refuses are a bad request, refused before anything is allocated', async (t) => {
  const driver = new ScriptedDriver({ script: { validateOptions: () => Promise.reject(new InvalidOptionError('unknown option "x": this driver takes none')) } });
  const { controller, ipam } = await openCore(t, { drivers: [driver] });
  driver.clearCalls();
  await t.throwsAsync(controller.create({ name: 'n1', driver: 'scripted', options: { x: '1' } }), { instanceOf: InvalidParameterError, message: 'unknown option "x": this driver takes none' });
  t.deepEqual(driver.sequence(), ['validateOptions']);
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
});

test('a createNetwork that fails leaves no pool, no record and the name free', async (t) => {
  const driver = new ScriptedDriver();
  const { controller, store, ipam } = await openCore(t, { drivers: [driver] });
  driver.clearCalls();
  driver.failNext('createNetwork');
  await t.throwsAsync(controller.create({ name: 'n1', driver: 'scripted', ipam: { config: [{ subnet: '10.7.0.0/24' }] } }), { instanceOf: ScriptedFailure });
  t.deepEqual(driver.sequence(), ['validateOptions', 'createNetwork'], 'a network the driver did not make is not deleted');
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
  t.deepEqual(await store.list('networks/'), []);
  t.deepEqual(controller.list(), []);
  await controller.create({ name: 'n1', driver: 'scripted', ipam: { config: [{ subnet: '10.7.0.0/24' }] } });
});

test('a record the store cannot write undoes the driver’s network and the pools', async (t) => {
  const driver = new ScriptedDriver();
  const { controller, store, ipam } = await openCore(t, { drivers: [driver] });
  driver.clearCalls();
  store.failNextPut('networks/');
  await t.throwsAsync(controller.create({ name: 'n1', driver: 'scripted', ipam: { config: [{ subnet: '10.7.0.0/24' }] } }), { instanceOf: ScriptedFailure });
  t.deepEqual(driver.sequence(), ['validateOptions', 'createNetwork', 'deleteNetwork']);
  t.is((driver.calls[2]!.args[0] as NetworkSpec).id, (driver.calls[1]!.args[0] as NetworkSpec).id);
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
  t.deepEqual(controller.list(), []);
});

test('node events reach every registered driver', async (t) => {
  const [a, b] = [new ScriptedDriver({ type: 'a' }), new ScriptedDriver({ type: 'b' })];
  const { controller } = await openCore(t, { drivers: [a] });
  await controller.registerDriver(b);
  await controller.discoverNew({ address: '192.0.2.7', self: false });
  await controller.discoverDelete({ address: '192.0.2.7', self: false });
  for (const driver of [a, b]) {
    t.deepEqual(
      driver.calls.filter((c) => c.method.startsWith('discover')).map((c) => [c.method, c.args[0]]),
      [
        ['discoverNew', { address: '192.0.2.7', self: false }],
        ['discoverDelete', { address: '192.0.2.7', self: false }],
      ],
    );
  }
});

test('a stored network record of the wrong shape is refused with what is wrong; a good one reads back', (t) => {
  const good = { id: 'a'.repeat(64), name: 'n', driver: 'bridge', scope: 'local', created: '2026-12-04T00:00:00.000Z', internal: false, attachable: false, enableIPv6: false, predefined: false, options: {}, labels: {}, ipam: { driver: 'default', options: {}, config: [] }, allocations: [] };
  t.deepEqual(parseNetworkRecord(JSON.stringify(good)), good);
  t.throws(() => parseNetworkRecord('null'), { message: 'not a network record (not an object)' });
  t.throws(() => parseNetworkRecord(JSON.stringify({ ...good, name: 5 })), { message: 'not a network record (bad field name)' });
  t.throws(() => parseNetworkRecord(JSON.stringify({ ...good, allocations: {} })), { message: 'not a network record (bad field allocations)' });
  t.throws(() => parseNetworkRecord(JSON.stringify({ ...good, ipam: { driver: 'default' } })), { message: 'not a network record (bad field ipam)' });
});
