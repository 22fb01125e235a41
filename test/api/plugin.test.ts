// The plugin server's mapping of Docker's calls onto the driver contract, without root: a scripted
// driver behind it and an in-memory store. What the kernel does with it is in integration/plugin.
import test from 'ava';
import { PluginNetworkDriver } from '../../src/api/plugin/network-driver';
import { parseDaemonOptions } from '../../src/cli/daemon-command';
import { UsageError } from '../../src/cli/args';
import type { EndpointSpec, NetworkSpec } from '../../src/drivers/driver';
import { LocalStore } from '../../src/store/sqlite';
import { FaultyStore, silent } from '../helpers/core';
import { ScriptedDriver, ScriptedFailure } from '../helpers/scripted-driver';

const NET = '1'.repeat(64);
const EP = '2'.repeat(64);
const HOST = '/proc/1/ns/net';
const createNetwork = { NetworkID: NET, IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '10.9.0.0/24', Gateway: '10.9.0.1/24' }], Options: { 'com.docker.network.generic': { 'netctl.driver': 'scripted', mtu: '1400' }, 'com.docker.network.internal': false } };
const createEndpoint = { NetworkID: NET, EndpointID: EP, Interface: { Address: '10.9.0.2/24', MacAddress: '' } };
const join = { NetworkID: NET, EndpointID: EP, SandboxKey: '/var/run/docker/netns/abc' };

function plugin(store: LocalStore | FaultyStore = new LocalStore(':memory:'), driver = new ScriptedDriver({ script: { join: () => ({ gateway4: '10.9.0.1', staticRoutes: [{ destination: '10.10.0.0/16', nextHop: '10.9.0.254' }, { destination: '10.11.0.0/16' }], interface: { inSandbox: true } }) } })) {
  const server = new PluginNetworkDriver({ store, drivers: new Map([['scripted', driver]]), log: silent, hostNamespace: HOST });
  return { server, driver, store, call: (method: string, body: unknown) => server.calls[method]!(body) };
}

test('CreateNetwork gives the driver Docker pools and -o options without netctl.driver; a retry creates nothing more', async (t) => {
  const { driver, call } = plugin();
  t.deepEqual(await call('CreateNetwork', createNetwork), {});
  t.deepEqual(await call('CreateNetwork', createNetwork), {});
  const [spec] = driver.callsOf('createNetwork').map((c) => c.args[0] as NetworkSpec);
  t.is(driver.callsOf('createNetwork').length, 1);
  t.like(spec, { id: NET, options: { mtu: '1400' }, internal: false, enableIPv6: false, ipv4: [{ addressSpace: 'LocalDefault', pool: '10.9.0.0/24', gateway: '10.9.0.1/24', auxAddresses: {} }], ipv6: [] });
  t.false('netctl.driver' in spec!.options);
});

test('a driver that fails CreateNetwork leaves no record: the retry creates the network', async (t) => {
  const { driver, call } = plugin();
  driver.failNext('createNetwork');
  await t.throwsAsync(call('CreateNetwork', createNetwork), { instanceOf: ScriptedFailure });
  t.deepEqual(await call('CreateNetwork', createNetwork), {});
  t.is(driver.callsOf('createNetwork').length, 2);
});

test('a store that fails the record undoes the driver network', async (t) => {
  const store = new FaultyStore(new LocalStore(':memory:'));
  const { driver, call } = plugin(store);
  store.failNextPut('docker-plugin/networks/');
  await t.throwsAsync(call('CreateNetwork', createNetwork));
  t.deepEqual(driver.sequence(['createNetwork', 'deleteNetwork']), ['createNetwork', 'deleteNetwork']);
});

test('Join makes the interface in the host namespace under SrcName and answers gateway and routes as Docker reads them', async (t) => {
  const { driver, call } = plugin();
  await call('CreateNetwork', createNetwork);
  t.deepEqual(await call('CreateEndpoint', createEndpoint), { Interface: { MacAddress: '02:42:0a:09:00:02' } });
  const joined = await call('Join', join);
  t.deepEqual(joined, {
    InterfaceName: { SrcName: 'nctl22222222222', DstPrefix: 'eth' },
    Gateway: '10.9.0.1',
    StaticRoutes: [{ Destination: '10.10.0.0/16', RouteType: 0, NextHop: '10.9.0.254' }, { Destination: '10.11.0.0/16', RouteType: 1 }],
    DisableGatewayService: false,
  });
  t.like(driver.callsOf('join')[0]!.args[2], { sandboxKey: HOST, ifname: 'nctl22222222222' });
  t.deepEqual(await call('Join', join), joined, 'a retry joins nothing more');
  t.is(driver.callsOf('join').length, 1);
});

test('Docker gave a MAC: the answer leaves the interface as it was (Docker refuses a changed one)', async (t) => {
  const { call } = plugin();
  await call('CreateNetwork', createNetwork);
  t.deepEqual(await call('CreateEndpoint', { ...createEndpoint, Interface: { Address: '10.9.0.2/24', MacAddress: '02:00:00:00:00:01' } }), { Interface: {} });
});

test('ProgramExternalConnectivity without ports leaves the driver alone unless something was published', async (t) => {
  const { driver, call } = plugin();
  await call('CreateNetwork', createNetwork);
  await call('CreateEndpoint', createEndpoint);
  const program = (portmap: unknown[]): Promise<unknown> => call('ProgramExternalConnectivity', { NetworkID: NET, EndpointID: EP, Options: { 'com.docker.network.portmap': portmap } });
  t.deepEqual(await program([]), {});
  t.is(driver.callsOf('programExternalConnectivity').length, 0, 'a start without -p programs nothing');
  await program([{ Proto: 6, Port: 80, HostPort: 8080 }]);
  await program([]);
  t.deepEqual(driver.callsOf('programExternalConnectivity').map((c) => (c.args[2] as unknown[]).length), [1, 0], 'an empty map after ports takes them away');
  await program([]);
  t.is(driver.callsOf('programExternalConnectivity').length, 2);
});

test('a restarted server gives the driver its networks and endpoints back; Leave and DeleteEndpoint then work', async (t) => {
  const first = plugin();
  await first.call('CreateNetwork', createNetwork);
  await first.call('CreateEndpoint', createEndpoint);
  await first.call('Join', join);
  const again = plugin(first.store as LocalStore);
  await again.server.restore();
  const [networks, endpoints] = again.driver.callsOf('restore')[0]!.args as [NetworkSpec[], EndpointSpec[]];
  t.deepEqual(networks.map((n) => n.id), [NET]);
  t.like(endpoints[0], { id: EP, ipv4: '10.9.0.2/24', mac: '02:42:0a:09:00:02', sandbox: { sandboxKey: HOST, ifname: 'nctl22222222222' } });
  t.deepEqual(await again.call('Leave', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(await again.call('DeleteEndpoint', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(await again.call('DeleteNetwork', { NetworkID: NET }), {});
  // The Leave, then again at DeleteEndpoint for what Docker gives back after it.
  t.deepEqual(again.driver.sequence(['leave', 'deleteEndpoint', 'deleteNetwork']), ['leave', 'leave', 'deleteEndpoint', 'deleteNetwork']);
  t.deepEqual(await first.store.list('docker-plugin/'), []);
});

test('--docker-plugin takes a plugin name (Docker plugin directory) or a socket path, and refuses anything else', (t) => {
  t.is(parseDaemonOptions(['--docker-plugin', 'netctl']).dockerPluginSocket, '/run/docker/plugins/netctl.sock');
  t.is(parseDaemonOptions(['--docker-plugin', '/tmp/x/p.sock']).dockerPluginSocket, '/tmp/x/p.sock');
  t.is(parseDaemonOptions([]).dockerPluginSocket, undefined);
  t.throws(() => parseDaemonOptions(['--docker-plugin', '../evil']), { instanceOf: UsageError, message: /invalid --docker-plugin "..\/evil"/ });
});
