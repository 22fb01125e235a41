// The core using Docker plugins it finds by name, without root: a network driver plugin and an
// IPAM plugin served in the test, looked up at create, activated once, rolled back on their
// errors, waited for across a restart, and a plugin gone leaving its network listed.
import path from 'node:path';
import test from 'ava';
import { NotFoundError } from '../../../src/controller';
import { PluginLookup } from '../../../src/drivers/remote/lookup';
import { LOCAL_SPACE } from '../../../src/ipam';
import { openCore, silent } from '../../helpers/core';
import { pluginDir, reply, startTestPlugin, type PluginHandler } from '../../helpers/plugin-server';
import { ScriptedDriver } from '../../helpers/scripted-driver';
import { until } from '../../helpers/until';

const networkPlugin: Record<string, PluginHandler> = {
  'NetworkDriver.GetCapabilities': () => ({ Scope: 'local' }),
  'NetworkDriver.CreateNetwork': () => ({}),
  'NetworkDriver.DeleteNetwork': () => ({}),
};

type Teardown = { teardown(fn: () => Promise<void> | void): void };

function lookupIn(t: Teardown, socketsDir: string, retryWindowMs = 30_000): PluginLookup {
  const plugins = new PluginLookup({ roots: { socketsDir, specDirs: [] }, client: { retryWindowMs, callTimeoutMs: 5_000 }, log: silent });
  t.teardown(() => plugins.close());
  return plugins;
}

function lookup(t: Teardown, retryWindowMs?: number): { socketsDir: string; plugins: PluginLookup } {
  const socketsDir = pluginDir(t);
  return { socketsDir, plugins: lookupIn(t, socketsDir, retryWindowMs) };
}

test('-d NAME of no registered driver finds the plugin, activates it once and creates the network through it', async (t) => {
  const { socketsDir, plugins } = lookup(t);
  const plugin = await startTestPlugin(t, path.join(socketsDir, 'tp.sock'), ['NetworkDriver'], networkPlugin);
  const { controller, ipam } = await openCore(t, { plugins });
  const record = await controller.create({ name: 'pn', driver: 'tp', options: { color: 'blue' }, ipam: { config: [{ subnet: '10.77.0.0/24' }] } });
  await controller.create({ name: 'pn2', driver: 'tp' });
  t.deepEqual(plugin.methods(), ['Plugin.Activate', 'NetworkDriver.GetCapabilities', 'NetworkDriver.CreateNetwork', 'NetworkDriver.CreateNetwork']);
  t.deepEqual(plugin.calls[2]!.body, {
    NetworkID: record.id,
    Options: { 'com.docker.network.generic': { color: 'blue' }, 'com.docker.network.enable_ipv4': true, 'com.docker.network.enable_ipv6': false },
    IPv4Data: [{ AddressSpace: LOCAL_SPACE, Pool: '10.77.0.0/24', Gateway: '10.77.0.1/24' }],
    IPv6Data: [],
  });
  t.true(controller.driverTypes().includes('tp'));
  await controller.delete('pn');
  t.deepEqual(plugin.calls.at(-1), { ...plugin.calls.at(-1)!, method: 'NetworkDriver.DeleteNetwork', body: { NetworkID: record.id } });
  t.false(ipam.poolIds(LOCAL_SPACE).some((id) => id.includes('10.77.0.0')));
});

test('a plugin\'s error rolls the create back: no record, no pool, the name free; the message names the plugin', async (t) => {
  const { socketsDir, plugins } = lookup(t);
  let refuse = true;
  await startTestPlugin(t, path.join(socketsDir, 'tp.sock'), ['NetworkDriver'], { ...networkPlugin, 'NetworkDriver.CreateNetwork': () => (refuse ? reply(500, { Err: 'vlan 7 is taken' }) : {}) });
  const { controller, ipam } = await openCore(t, { plugins });
  await t.throwsAsync(controller.create({ name: 'pn', driver: 'tp', ipam: { config: [{ subnet: '10.78.0.0/24' }] } }), { message: 'plugin "tp" NetworkDriver.CreateNetwork failed: vlan 7 is taken' });
  t.deepEqual(controller.list().filter((n) => n.name === 'pn'), []);
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
  refuse = false;
  t.is((await controller.create({ name: 'pn', driver: 'tp', ipam: { config: [{ subnet: '10.78.0.0/24' }] } })).name, 'pn');
});

test('no plugin of that name is Docker\'s "not found"; a plugin that is no network driver says what it implements', async (t) => {
  const { socketsDir, plugins } = lookup(t);
  await startTestPlugin(t, path.join(socketsDir, 'onlyipam.sock'), ['IpamDriver'], {});
  await startTestPlugin(t, path.join(socketsDir, 'badscope.sock'), ['NetworkDriver'], { 'NetworkDriver.GetCapabilities': () => ({ Scope: 'cluster' }) });
  const { controller } = await openCore(t, { plugins });
  await t.throwsAsync(controller.create({ name: 'x', driver: 'nope' }), { instanceOf: NotFoundError, message: 'plugin "nope" not found' });
  await t.throwsAsync(controller.create({ name: 'x', driver: 'onlyipam' }), { message: /^plugin "onlyipam" \(.*onlyipam\.sock\) does not implement NetworkDriver; it implements IpamDriver$/ });
  await t.throwsAsync(controller.create({ name: 'x', driver: 'badscope' }), { message: `plugin "badscope" answered NetworkDriver.GetCapabilities wrongly: invalid capability: expecting 'local' or 'global', got "cluster"` });
  t.deepEqual(controller.list().filter((n) => n.name === 'x'), []);
});

test('--ipam-driver NAME: the plugin gives the pool and the gateway, and takes them back at removal', async (t) => {
  const { socketsDir, plugins } = lookup(t);
  const ipamPlugin = await startTestPlugin(t, path.join(socketsDir, 'tipam.sock'), ['IpamDriver'], {
    'IpamDriver.GetCapabilities': () => ({ RequiresMACAddress: true }),
    'IpamDriver.GetDefaultAddressSpaces': () => ({ LocalDefaultAddressSpace: 'tlocal', GlobalDefaultAddressSpace: 'tglobal' }),
    'IpamDriver.RequestPool': (request) => ({ PoolID: `tpool-${String(request['Pool'] || '10.123.0.0/16')}`, Pool: request['Pool'] || '10.123.0.0/16', Data: {} }),
    'IpamDriver.RequestAddress': (request) => ({ Address: `${String(request['Address'] || '10.123.0.1')}/16` }),
    'IpamDriver.ReleaseAddress': () => ({}),
    'IpamDriver.ReleasePool': () => ({}),
  });
  const { controller } = await openCore(t, { drivers: [new ScriptedDriver()], plugins });
  const record = await controller.create({ name: 'ipn', driver: 'scripted', ipam: { driver: 'tipam' } });
  t.deepEqual(record.ipam.config, [{ subnet: '10.123.0.0/16', gateway: '10.123.0.1' }]);
  const request = (method: string) => ipamPlugin.calls.find((c) => c.method === method)!.body;
  t.deepEqual(request('IpamDriver.RequestPool'), { AddressSpace: 'tlocal', Pool: '', SubPool: '', Options: {}, V6: false });
  t.deepEqual(request('IpamDriver.RequestAddress'), { PoolID: 'tpool-10.123.0.0/16', Address: '', Options: { RequestAddressType: 'com.docker.network.gateway' } });
  await controller.delete('ipn');
  t.deepEqual(ipamPlugin.methods().slice(-1), ['IpamDriver.ReleasePool']);
  t.deepEqual(request('IpamDriver.ReleasePool'), { PoolID: 'tpool-10.123.0.0/16' });
});

test('a dynamic pool from an IPAM plugin that overlaps what must be avoided is asked again, the overlapping one given back', async (t) => {
  const { socketsDir, plugins } = lookup(t);
  const pools = ['172.17.0.0/16', '10.124.0.0/16'];
  const ipamPlugin = await startTestPlugin(t, path.join(socketsDir, 'tipam.sock'), ['IpamDriver'], {
    'IpamDriver.GetDefaultAddressSpaces': () => ({ LocalDefaultAddressSpace: 'l', GlobalDefaultAddressSpace: 'g' }),
    'IpamDriver.RequestPool': () => {
      const pool = pools.shift()!;
      return { PoolID: pool, Pool: pool };
    },
    'IpamDriver.ReleasePool': () => ({}),
  });
  // The core asks with the host's routes as what a dynamic pool must avoid.
  const remote = (await plugins.ipam('tipam'))!;
  const response = await remote.requestPool({ addressSpace: 'l', exclude: ['192.168.1.0/24', '172.17.0.0/16'] });
  t.deepEqual(response, { poolId: '10.124.0.0/16', pool: '10.124.0.0/16', meta: {} });
  t.deepEqual(ipamPlugin.calls.filter((c) => c.method === 'IpamDriver.ReleasePool').map((c) => c.body), [{ PoolID: '172.17.0.0/16' }]);
});

test('after a restart a plugin\'s network waits for the plugin, and comes back once it is found', async (t) => {
  const { socketsDir, plugins } = lookup(t);
  const socketPath = path.join(socketsDir, 'tp.sock');
  const first = await startTestPlugin(t, socketPath, ['NetworkDriver'], networkPlugin);
  const core = await openCore(t, { plugins });
  const record = await core.controller.create({ name: 'pn', driver: 'tp' });
  await core.close();
  await first.stop();

  const restarted = await openCore(t, { store: core.store, plugins: lookupIn(t, socketsDir) });
  t.is(restarted.controller.failure(record.id), 'driver "tp" is not available');
  t.deepEqual(restarted.controller.list().map((n) => n.name), ['pn']);
  await restarted.close();

  // The plugin is there at the next start: the network comes back without being used.
  const second = await startTestPlugin(t, socketPath, ['NetworkDriver'], networkPlugin);
  const again = await openCore(t, { store: core.store, plugins: lookupIn(t, socketsDir) });
  await until('the network to come back', () => again.controller.failure(record.id) === undefined);
  t.deepEqual(second.methods(), ['Plugin.Activate', 'NetworkDriver.GetCapabilities']);
});

test('a plugin that disappears leaves its network listed; removing it waits out the retries and removes it anyway, as Docker does', async (t) => {
  const { socketsDir, plugins } = lookup(t, 1_500);
  const plugin = await startTestPlugin(t, path.join(socketsDir, 'tp.sock'), ['NetworkDriver'], networkPlugin);
  const { controller, ipam } = await openCore(t, { plugins });
  await controller.create({ name: 'pn', driver: 'tp', ipam: { config: [{ subnet: '10.79.0.0/24' }] } });
  await plugin.stop();
  t.deepEqual(controller.list().map((n) => n.name), ['pn']);
  const started = Date.now();
  await controller.delete('pn');
  t.true(Date.now() - started >= 900, 'the plugin was tried again before giving up');
  t.deepEqual(controller.list(), []);
  t.deepEqual(ipam.poolIds(LOCAL_SPACE), []);
});
