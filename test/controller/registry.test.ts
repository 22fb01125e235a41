// Network drivers and IPAM drivers by name: Docker's errors for a name unknown or taken, and a
// driver registered after the controller opened bringing back the networks that waited for it.
// Over a scripted driver and an in-memory store, without root.
import test from 'ava';
import { ConflictError, NotFoundError } from '../../src/controller';
import { Registry } from '../../src/controller/registry';
import { NullIpam } from '../../src/ipam';
import { openCore } from '../helpers/core';
import { ScriptedDriver } from '../helpers/scripted-driver';

test('a name is registered once; an unknown one is a plugin that was not found, as Docker says', (t) => {
  const registry = new Registry();
  const first = new ScriptedDriver({ type: 'bridge' });
  registry.addDriver(first);
  t.is(registry.driver('bridge'), first);
  t.is(registry.requireDriver('bridge'), first);
  t.throws(() => registry.addDriver(new ScriptedDriver({ type: 'bridge' })), { instanceOf: ConflictError, message: 'driver already registered for type "bridge"' });
  t.is(registry.driver('bridge'), first, 'the first registration stands');
  t.is(registry.driver('overlay'), undefined);
  t.throws(() => registry.requireDriver('overlay'), { instanceOf: NotFoundError, message: 'plugin "overlay" not found' });

  const ipam = new NullIpam();
  registry.addIpam(ipam);
  t.is(registry.requireIpam('null'), ipam);
  t.throws(() => registry.addIpam(new NullIpam()), { instanceOf: ConflictError, message: 'ipam driver "null" already registered' });
  t.throws(() => registry.requireIpam('infoblox'), { instanceOf: NotFoundError, message: 'plugin "infoblox" not found' });
  t.deepEqual(registry.allDrivers(), [first]);
  t.deepEqual(registry.allIpams(), [ipam]);
});

test('the controller refuses a network of an unknown driver or IPAM driver and keeps nothing of it', async (t) => {
  const { controller, store, ipam } = await openCore(t);
  await t.throwsAsync(controller.create({ name: 'n1', driver: 'scripted' }), { instanceOf: NotFoundError, message: 'plugin "scripted" not found' });
  await controller.registerDriver(new ScriptedDriver());
  await t.throwsAsync(controller.create({ name: 'n1', driver: 'scripted', ipam: { driver: 'infoblox' } }), { instanceOf: NotFoundError, message: 'plugin "infoblox" not found' });
  t.deepEqual(controller.list(), []);
  t.deepEqual(await store.list('networks/'), []);
  t.deepEqual(ipam.poolIds('LocalDefault'), []);
  await t.throwsAsync(controller.registerDriver(new ScriptedDriver()), { instanceOf: ConflictError, message: 'driver already registered for type "scripted"' });
  await t.throwsAsync(controller.registerIpamDriver(new NullIpam()), { instanceOf: ConflictError, message: 'ipam driver "null" already registered' });
});

test('an IPAM driver registered later is picked by name', async (t) => {
  const { controller } = await openCore(t, { drivers: [new ScriptedDriver()] });
  const custom = Object.assign(new NullIpam(), { name: 'custom' });
  await controller.registerIpamDriver(custom);
  const network = await controller.create({ name: 'n1', driver: 'scripted', ipam: { driver: 'custom' } });
  t.is(network.ipam.driver, 'custom');
  t.deepEqual(network.ipam.config, [{ subnet: '0.0.0.0/0' }]);
});

test('a network whose driver is missing at open is listed and reported, and works once the driver is registered', async (t) => {
  const first = await openCore(t, { drivers: [new ScriptedDriver()] });
  const waiting = await first.controller.create({ name: 'late', driver: 'scripted', ipam: { config: [{ subnet: '10.90.0.0/24' }] } });
  await first.close();

  const { controller } = await openCore(t, { store: first.store });
  t.deepEqual(controller.list().map((n) => n.name), ['late']);
  t.is(controller.failure(waiting.id), 'driver "scripted" is not available');
  await t.throwsAsync(controller.create({ name: 'other', driver: 'scripted' }), { instanceOf: NotFoundError, message: 'plugin "scripted" not found' });

  const driver = new ScriptedDriver();
  await controller.registerDriver(driver);
  t.deepEqual(driver.sequence(), ['restore']);
  const [networks, endpoints] = driver.calls[0]!.args as [Array<{ id: string; name: string; ipv4: Array<{ pool: string; gateway?: string }> }>, unknown[]];
  t.like(networks, [{ id: waiting.id, name: 'late', ipv4: [{ pool: '10.90.0.0/24', gateway: '10.90.0.1/24' }] }]);
  t.deepEqual(endpoints, []);
  t.is(controller.failure(waiting.id), undefined);
  await controller.create({ name: 'other', driver: 'scripted', ipam: { config: [{ subnet: '10.90.1.0/24' }] } });
  await controller.delete('late');
  t.deepEqual(driver.sequence(), ['restore', 'validateOptions', 'createNetwork', 'deleteNetwork']);
});

test('a late driver that cannot bring a network back leaves it reported with its reason', async (t) => {
  const first = await openCore(t, { drivers: [new ScriptedDriver()] });
  const [a, b] = [await first.controller.create({ name: 'a', driver: 'scripted' }), await first.controller.create({ name: 'b', driver: 'scripted' })];
  await first.close();

  const { controller } = await openCore(t, { store: first.store });
  const reporting = new ScriptedDriver({ script: { restore: () => ({ rejoin: [], failed: [{ networkId: a.id, error: new Error('its parent link is gone') }] }) } });
  await controller.registerDriver(reporting);
  t.is(controller.failure(a.id), 'its parent link is gone');
  t.is(controller.failure(b.id), undefined);
  await controller.delete('a');
  t.is(controller.failure(a.id), undefined);
  t.deepEqual(controller.list().map((n) => n.name), ['b']);
});

test('a driver whose restore throws at open has all its networks reported; the others work', async (t) => {
  const first = await openCore(t, { drivers: [new ScriptedDriver(), new ScriptedDriver({ type: 'other' })] });
  const [a, b] = [await first.controller.create({ name: 'a', driver: 'scripted' }), await first.controller.create({ name: 'b', driver: 'other' })];
  await first.close();

  const broken = new ScriptedDriver();
  broken.failNext('restore', new Error('the plugin does not answer'));
  const { controller } = await openCore(t, { store: first.store, drivers: [broken, new ScriptedDriver({ type: 'other' })] });
  t.is(controller.failure(a.id), 'the plugin does not answer');
  t.is(controller.failure(b.id), undefined);
});

test('a network waiting for its driver and its IPAM driver comes back only once both are registered, in either order', async (t) => {
  const custom = (): NullIpam => Object.assign(new NullIpam(), { name: 'custom' });
  const first = await openCore(t, { drivers: [new ScriptedDriver()] });
  await first.controller.registerIpamDriver(custom());
  const waiting = await first.controller.create({ name: 'late', driver: 'scripted', ipam: { driver: 'custom' } });
  await first.close();

  const { controller } = await openCore(t, { store: first.store });
  t.is(controller.failure(waiting.id), 'driver "scripted" is not available');
  const driver = new ScriptedDriver();
  await controller.registerDriver(driver);
  t.truthy(controller.failure(waiting.id), 'still waiting: its IPAM driver is missing');
  t.deepEqual(driver.sequence(), [], 'not restored without its IPAM driver');
  await controller.registerIpamDriver(custom());
  t.is(controller.failure(waiting.id), undefined);
  t.deepEqual(driver.sequence(), ['restore']);
  t.like((driver.calls[0]!.args as [Array<{ id: string }>])[0], [{ id: waiting.id }], 'the waiting network alone');
});

test('node events reach every driver even when one of them fails', async (t) => {
  const failing = new ScriptedDriver({ type: 'a' });
  failing.failNext('discoverNew', new Error('not now'));
  const listening = new ScriptedDriver({ type: 'b' });
  const { controller } = await openCore(t, { drivers: [failing, listening] });
  await controller.discoverNew({ address: '192.0.2.2', self: false });
  t.deepEqual(listening.sequence(['discoverNew']), ['discoverNew']);
});
