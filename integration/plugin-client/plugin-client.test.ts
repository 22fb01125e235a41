// netctl driving Docker plugins it knows nothing of, in test hosts: a small network plugin written
// here from the protocol alone (a bridge of its own, a veth pair per endpoint whose one end it
// hands over by SrcName/DstPrefix, a gateway and a static route) and an IPAM plugin handing out
// addresses, each serving a unix socket in a directory the test host's daemon looks in.
import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { type Runner } from '../helpers/cli';
import { daemonWithCli, inspect, ok, pings } from '../helpers/containers';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { netctlCli } from '../helpers/cli';
import { pluginDir, reply, startTestPlugin, type PluginHandler, type TestPlugin } from '../../test/helpers/plugin-server';

const BRIDGE = 'tpbr0';
const STATIC_ROUTE = '198.51.100.0/24';

/** The links of the test host whose names start with "tp" (the plugin's). */
const pluginLinks = (ns: TestNamespace): string[] => ns.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname).filter((name) => name.startsWith('tp'));

/** What the plugin keeps, across its own restarts. */
interface BridgePluginState {
  /** What the next Join answers instead of a proper answer, once. */
  nextJoin?: 'bad-answer' | 'error';
  gateway?: string;
}

/**
 * A network plugin: CreateNetwork makes a bridge with the gateway address, Join a veth pair whose
 * host end is on the bridge and whose other end it hands over; Leave removes the pair.
 */
function bridgePlugin(ns: TestNamespace, state: BridgePluginState): Record<string, PluginHandler> {
  const hostEnd = (endpointId: unknown): string => `tp${String(endpointId).slice(0, 8)}h`;
  const peerEnd = (endpointId: unknown): string => `tp${String(endpointId).slice(0, 8)}c`;
  return {
    'NetworkDriver.GetCapabilities': () => ({ Scope: 'local', ConnectivityScope: 'local' }),
    'NetworkDriver.CreateNetwork': (request) => {
      const [data] = request['IPv4Data'] as Array<{ Gateway: string }>;
      state.gateway = data!.Gateway.split('/')[0]!;
      ns.run('ip', 'link', 'add', BRIDGE, 'type', 'bridge');
      ns.run('ip', 'addr', 'add', data!.Gateway, 'dev', BRIDGE);
      ns.run('ip', 'link', 'set', BRIDGE, 'up');
      return {};
    },
    'NetworkDriver.DeleteNetwork': () => {
      ns.run('ip', 'link', 'del', BRIDGE);
      return {};
    },
    'NetworkDriver.CreateEndpoint': () => ({ Interface: {} }),
    'NetworkDriver.DeleteEndpoint': () => ({}),
    'NetworkDriver.EndpointOperInfo': (request) => ({ Value: { hostEnd: hostEnd(request['EndpointID']) } }),
    'NetworkDriver.Join': (request) => {
      const failure = state.nextJoin;
      delete state.nextJoin;
      if (failure === 'error') return reply(500, { Err: 'no free port on the switch' });
      const [host, peer] = [hostEnd(request['EndpointID']), peerEnd(request['EndpointID'])];
      ns.run('ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
      ns.run('ip', 'link', 'set', host, 'master', BRIDGE, 'up');
      if (failure === 'bad-answer') return { InterfaceName: { SrcName: peer, DstPrefix: 'eth' }, Gateway: 'bogus' };
      return {
        InterfaceName: { SrcName: peer, DstPrefix: 'eth' },
        Gateway: state.gateway,
        StaticRoutes: [{ Destination: STATIC_ROUTE, RouteType: 0, NextHop: state.gateway }],
      };
    },
    'NetworkDriver.Leave': (request) => {
      // The pair goes with its host end, wherever the other end is.
      if (pluginLinks(ns).includes(hostEnd(request['EndpointID']))) ns.run('ip', 'link', 'del', hostEnd(request['EndpointID']));
      return {};
    },
  };
}

interface Host {
  ns: TestNamespace;
  netctl: Runner;
  plugins: string;
  env: Record<string, string>;
}

// A short retry window: the plugins stop (teardown) before the daemon removes what is left.
async function host(t: ExecutionContext, retrySeconds = 3): Promise<Host> {
  const ns = createTestNamespace(t, 'nctl-plug');
  const plugins = pluginDir(t);
  const env = { NETCTL_PLUGIN_SOCKETS_DIR: plugins, NETCTL_PLUGIN_SPEC_DIRS: '', NETCTL_PLUGIN_RETRY_SECONDS: String(retrySeconds) };
  const { netctl } = await daemonWithCli(t, { netns: ns.path, args: ['--bridge', 'none'], env });
  return { ns, netctl, plugins, env };
}

const startBridgePlugin = (t: ExecutionContext, h: Host, state: BridgePluginState = {}): Promise<TestPlugin> => startTestPlugin(t, path.join(h.plugins, 'testplugin.sock'), ['NetworkDriver'], bridgePlugin(h.ns, state));

test('a network of a plugin: containers get the interface it hands over, its gateway and route, and reach each other; disconnect and rm leave nothing', async (t) => {
  const h = await host(t);
  const plugin = await startBridgePlugin(t, h);
  await ok(h.netctl, ['network', 'create', '-d', 'testplugin', '--subnet', '10.191.0.0/24', 'pn']);
  t.deepEqual(pluginLinks(h.ns), [BRIDGE]);
  t.true(h.ns.run('ip', '-4', 'addr', 'show', BRIDGE).includes('10.191.0.1/24'));

  for (const name of ['a', 'b']) await ok(h.netctl, ['run', '-d', '--name', name, '--network', 'pn', 'sleep', '300']);
  const [a, b] = [await inspect(h.netctl, 'a'), await inspect(h.netctl, 'b')];
  t.regex(a.NetworkSettings.Networks['pn']!.IPAddress, /^10\.191\.0\.\d+$/);
  t.is(a.NetworkSettings.Networks['pn']!.Gateway, '10.191.0.1');
  t.true(await pings(h.netctl, 'a', b.NetworkSettings.Networks['pn']!.IPAddress));
  t.true(await pings(h.netctl, 'b', '10.191.0.1'), 'the plugin\'s gateway on its bridge');
  // The handed-over end, renamed with the plugin's prefix, with the plugin's gateway and route.
  const links = await ok(h.netctl, ['exec', 'a', 'ip', '-o', 'link', 'show']);
  t.regex(links, /: eth0[@:]/);
  t.notRegex(links, /tp[0-9a-f]{8}c/);
  const routes = await ok(h.netctl, ['exec', 'a', 'ip', 'route']);
  t.regex(routes, /default via 10\.191\.0\.1 dev eth0/);
  t.regex(routes, /198\.51\.100\.0\/24 via 10\.191\.0\.1 dev eth0/);
  t.is(pluginLinks(h.ns).filter((name) => name.endsWith('h')).length, 2, 'one host end per container, on the bridge');
  t.deepEqual(plugin.methods().slice(0, 3), ['Plugin.Activate', 'NetworkDriver.GetCapabilities', 'NetworkDriver.CreateNetwork']);

  await ok(h.netctl, ['network', 'disconnect', 'pn', 'b']);
  t.is(pluginLinks(h.ns).filter((name) => name.endsWith('h')).length, 1);
  t.deepEqual(plugin.methods().filter((m) => /Leave|DeleteEndpoint/.test(m)), ['NetworkDriver.Leave', 'NetworkDriver.DeleteEndpoint']);
  await ok(h.netctl, ['rm', '-f', 'a', 'b']);
  await ok(h.netctl, ['network', 'rm', 'pn']);
  t.deepEqual(pluginLinks(h.ns), []);
  t.is(plugin.methods().at(-1), 'NetworkDriver.DeleteNetwork');
});

test('a plugin\'s Join error or a malformed Join answer fails the run with the plugin named and leaks nothing', async (t) => {
  const h = await host(t);
  const state: BridgePluginState = {};
  await startBridgePlugin(t, h, state);
  await ok(h.netctl, ['network', 'create', '-d', 'testplugin', '--subnet', '10.192.0.0/24', 'pn']);

  state.nextJoin = 'error';
  const refused = await h.netctl(['run', '-d', '--name', 'x1', '--network', 'pn', 'sleep', '300']);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /plugin "testplugin" NetworkDriver\.Join failed: no free port on the switch/);

  state.nextJoin = 'bad-answer';
  const malformed = await h.netctl(['run', '-d', '--name', 'x2', '--network', 'pn', 'sleep', '300']);
  t.not(malformed.code, 0);
  t.regex(malformed.stderr, /plugin "testplugin" answered NetworkDriver\.Join wrongly: "Gateway" is not an IP address: "bogus"; rolled back/);
  t.deepEqual(pluginLinks(h.ns), [BRIDGE], 'the pair the plugin made went with the rollback\'s Leave');

  // Nothing held: the addresses the failed runs had are free again.
  for (const [name, ip] of [['c2', '10.192.0.2'], ['c3', '10.192.0.3']]) {
    await ok(h.netctl, ['run', '-d', '--name', name!, '--network', 'pn', '--ip', ip!, 'sleep', '300']);
  }
  t.is(pluginLinks(h.ns).length, 3);
  await ok(h.netctl, ['rm', '-f', 'c2', 'c3']);
  t.deepEqual(pluginLinks(h.ns), [BRIDGE]);
});

test('an IPAM plugin hands out the pool, the gateway and the containers\' addresses, and gets them all back', async (t) => {
  const h = await host(t);
  const given = new Set<string>();
  let next = 10;
  const ipam = await startTestPlugin(t, path.join(h.plugins, 'testipam.sock'), ['IpamDriver'], {
    'IpamDriver.GetDefaultAddressSpaces': () => ({ LocalDefaultAddressSpace: 'tl', GlobalDefaultAddressSpace: 'tg' }),
    'IpamDriver.RequestPool': () => ({ PoolID: 'pool-1', Pool: '10.193.0.0/24', Data: {} }),
    'IpamDriver.ReleasePool': () => ({}),
    'IpamDriver.RequestAddress': (request) => {
      const options = request['Options'] as Record<string, string>;
      const address = options['RequestAddressType'] === 'com.docker.network.gateway' ? '10.193.0.254' : `10.193.0.${next++}`;
      given.add(address);
      return { Address: `${address}/24` };
    },
    'IpamDriver.ReleaseAddress': (request) => {
      if (!given.delete(String(request['Address']))) return reply(500, { Err: `${String(request['Address'])} was not given` });
      return {};
    },
  });
  await ok(h.netctl, ['network', 'create', '--ipam-driver', 'testipam', 'ipn']);
  for (const name of ['a', 'b']) await ok(h.netctl, ['run', '-d', '--name', name, '--network', 'ipn', 'sleep', '300']);
  const [a, b] = [await inspect(h.netctl, 'a'), await inspect(h.netctl, 'b')];
  t.is(a.NetworkSettings.Networks['ipn']!.IPAddress, '10.193.0.10');
  t.is(b.NetworkSettings.Networks['ipn']!.IPAddress, '10.193.0.11');
  t.is(a.NetworkSettings.Networks['ipn']!.Gateway, '10.193.0.254');
  t.true(await pings(h.netctl, 'a', '10.193.0.11'));
  await ok(h.netctl, ['rm', '-f', 'a', 'b']);
  await ok(h.netctl, ['network', 'rm', 'ipn']);
  t.deepEqual([...given], [], 'every address given back');
  t.is(ipam.methods().at(-1), 'IpamDriver.ReleasePool');
});

test('a plugin that goes away leaves its network listed and its uses failing clearly; back, it works again, also after a daemon restart', async (t) => {
  const h = await host(t, 2);
  const socketPath = path.join(h.plugins, 'testplugin.sock');
  const state: BridgePluginState = {};
  const first = await startBridgePlugin(t, h, state);
  await ok(h.netctl, ['network', 'create', '-d', 'testplugin', '--subnet', '10.194.0.0/24', 'pn']);
  await first.stop();

  t.regex(await ok(h.netctl, ['network', 'ls']), /\bpn\s+testplugin\b/);
  const refused = await h.netctl(['run', '-d', '--name', 'c', '--network', 'pn', 'sleep', '300']);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /plugin "testplugin" cannot be reached at unix:\/\/\S+testplugin\.sock \(NetworkDriver\.CreateEndpoint\): .*is the plugin running\?/);
  // Refused at its start, the container stays created (as with dockerd), holding nothing.
  await ok(h.netctl, ['rm', 'c']);

  // The plugin is back (its bridge was never removed): the network takes containers again.
  await startTestPlugin(t, socketPath, ['NetworkDriver'], bridgePlugin(h.ns, state));
  await ok(h.netctl, ['run', '-d', '--name', 'c', '--network', 'pn', 'sleep', '300']);
  t.true(await pings(h.netctl, 'c', '10.194.0.1'));
  await ok(h.netctl, ['rm', '-f', 'c']);

  // A second daemon on a fresh test host finds its network's plugin at start.
  const ns2 = createTestNamespace(t, 'nctl-plug');
  const plugins2 = pluginDir(t);
  const env2 = { ...h.env, NETCTL_PLUGIN_SOCKETS_DIR: plugins2 };
  const daemon = await startDaemon(t, { netns: ns2.path, args: ['--bridge', 'none'], env: env2 });
  const netctl2 = netctlCli(daemon.socketPath);
  const state2: BridgePluginState = {};
  const plugin2 = await startTestPlugin(t, path.join(plugins2, 'testplugin.sock'), ['NetworkDriver'], bridgePlugin(ns2, state2));
  await ok(netctl2, ['network', 'create', '-d', 'testplugin', '--subnet', '10.195.0.0/24', 'pn2']);
  await daemon.stop();
  const restart = async (): Promise<{ restarted: TestDaemon; netctl: Runner }> => {
    const restarted = await startDaemon(t, { netns: ns2.path, args: ['--bridge', 'none'], env: env2, root: daemon.root, runDir: daemon.runDir });
    const netctl = netctlCli(restarted.socketPath);
    t.teardown(async () => void (await netctl(['rm', '-f', 'r'])));
    return { restarted, netctl };
  };
  const { restarted, netctl: netctl3 } = await restart();
  await ok(netctl3, ['run', '-d', '--name', 'r', '--network', 'pn2', 'sleep', '300']);
  t.true(await pings(netctl3, 'r', '10.195.0.1'));
  await ok(netctl3, ['rm', '-f', 'r']);

  // Started while the plugin is away: the network waits for it, and takes containers once it is back.
  await restarted.stop();
  await plugin2.stop();
  const { netctl: netctl4 } = await restart();
  const [waiting] = JSON.parse(await ok(netctl4, ['network', 'inspect', 'pn2'])) as Array<{ Error?: string }>;
  t.is(waiting!.Error, 'driver "testplugin" is not available');
  await startTestPlugin(t, path.join(plugins2, 'testplugin.sock'), ['NetworkDriver'], bridgePlugin(ns2, state2));
  await ok(netctl4, ['run', '-d', '--name', 'r', '--network', 'pn2', 'sleep', '300']);
  t.true(await pings(netctl4, 'r', '10.195.0.1'));
  await ok(netctl4, ['rm', '-f', 'r']);
});
