// The remote driver's own rules against a plugin served in the test: proposals taken or refused
// (and the endpoint deleted again), a Join answer it cannot use sent back as Leave, the calls a
// plugin may leave out (404), EndpointOperInfo kept for inspect.
import path from 'node:path';
import test from 'ava';
import type { EndpointSpec, NetworkSpec } from '../../../src/drivers/driver';
import { Plugin } from '../../../src/drivers/remote/plugin';
import { RemoteDriver } from '../../../src/drivers/remote/remote-driver';
import { silent } from '../../helpers/core';
import { pluginDir, startTestPlugin, type PluginHandler, type TestPlugin } from '../../helpers/plugin-server';

const network: NetworkSpec = { id: 'n1', name: 'pn', options: {}, internal: false, enableIPv6: false, ipv4: [], ipv6: [] };
const endpoint: EndpointSpec = { id: 'e1', networkId: 'n1', mac: '02:42:0a:00:00:02', ipv4: '10.0.0.2/24' };

async function driverFor(t: Parameters<typeof pluginDir>[0] & { teardown(fn: () => Promise<void> | void): void }, handlers: Record<string, PluginHandler>): Promise<{ driver: RemoteDriver; plugin: TestPlugin }> {
  const socketPath = path.join(pluginDir(t), 'tp.sock');
  const plugin = await startTestPlugin(t, socketPath, ['NetworkDriver'], { 'NetworkDriver.GetCapabilities': () => ({ Scope: 'local' }), ...handlers });
  const activated = await Plugin.activate({ name: 'tp', address: { kind: 'unix', socketPath }, source: socketPath });
  t.teardown(() => activated.close());
  return { driver: await RemoteDriver.create(activated, silent), plugin };
}

test('CreateEndpoint: an address the core left empty is taken from the plugin; one contradicting the core\'s is refused and the endpoint deleted', async (t) => {
  let answer: unknown = { Interface: { AddressIPv6: 'fd00::5/64' } };
  const { driver, plugin } = await driverFor(t, { 'NetworkDriver.CreateEndpoint': () => answer, 'NetworkDriver.DeleteEndpoint': () => ({}) });
  t.deepEqual(await driver.createEndpoint(network, endpoint), { ipv6: 'fd00::5/64' });
  answer = { Interface: { Address: '10.0.0.9/24' } };
  await t.throwsAsync(driver.createEndpoint(network, endpoint), { message: 'plugin "tp" answered NetworkDriver.CreateEndpoint wrongly: driver modified interface address: 10.0.0.9/24, not 10.0.0.2/24; rolled back' });
  t.deepEqual(plugin.methods().slice(-2), ['NetworkDriver.CreateEndpoint', 'NetworkDriver.DeleteEndpoint']);
  t.deepEqual(plugin.calls.at(-1)!.body, { NetworkID: 'n1', EndpointID: 'e1' });
});

test('a Join answer the core cannot use is sent back as Leave; a good one comes with the plugin\'s EndpointOperInfo for inspect', async (t) => {
  let answer: unknown = { InterfaceName: { SrcName: 'tpx', DstPrefix: 'eth' }, StaticRoutes: [{ Destination: '10.9.0.0/16' }] };
  const { driver, plugin } = await driverFor(t, {
    'NetworkDriver.Join': () => answer,
    'NetworkDriver.Leave': () => ({}),
    'NetworkDriver.EndpointOperInfo': () => ({ Value: { vlan: 7 } }),
  });
  const target = { sandboxKey: '/run/netctl/netns/s1', ifname: 'eth0' };
  await t.throwsAsync(driver.join(network, endpoint, target), { message: /answered NetworkDriver\.Join wrongly: "StaticRoutes\[0\]" of RouteType 0 has no NextHop; rolled back$/ });
  t.deepEqual(plugin.methods().slice(-2), ['NetworkDriver.Join', 'NetworkDriver.Leave']);
  t.deepEqual(driver.endpointInfo(network, endpoint), {});
  answer = { InterfaceName: { SrcName: 'tpx', DstPrefix: 'eth' }, Gateway: '10.0.0.1' };
  t.deepEqual(await driver.join(network, endpoint, target), { interface: { srcName: 'tpx', dstPrefix: 'eth' }, gateway4: '10.0.0.1' });
  t.deepEqual(plugin.calls.find((c) => c.method === 'NetworkDriver.Join')!.body, { NetworkID: 'n1', EndpointID: 'e1', SandboxKey: '/run/netctl/netns/s1', Options: {} });
  t.deepEqual(driver.endpointInfo(network, endpoint), { vlan: 7 });
});

test('Program/RevokeExternalConnectivity and discovery events a plugin does not implement (404) are no error; other failures are', async (t) => {
  const { driver } = await driverFor(t, { 'NetworkDriver.RevokeExternalConnectivity': () => ({ Err: 'busy' }) });
  t.deepEqual(await driver.programExternalConnectivity(network, endpoint, [{ protocol: 'tcp', hostPort: 8080, containerPort: 80 }]), []);
  await driver.discoverNew({ address: '10.0.0.1', self: true });
  await t.throwsAsync(driver.revokeExternalConnectivity(network, endpoint), { message: 'plugin "tp" NetworkDriver.RevokeExternalConnectivity failed: busy' });
  t.is(driver.type, 'tp');
  t.deepEqual(driver.capability, { dataScope: 'local', connectivityScope: 'local', createsInSandbox: false });
});
