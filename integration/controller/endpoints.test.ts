// Sandboxes and endpoints through the library's controller, run in a test host: what the kernel
// shows after a connect (veth on the bridge with hairpin, the interface in the sandbox with its
// MAC, address and default route), real traffic on and across networks, live connect and
// disconnect, refusals that leave nothing behind, and restarts that repair what went missing.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from '../../src/controller';
import { deleteNamespace } from '../../src/native/netns';
import { pings } from '../firewall/topology';
import { type ControllerHost, RemoteError, startController } from '../helpers/controller-host';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

interface IpLink {
  ifname: string;
  mtu: number;
  address: string;
  master?: string;
  operstate: string;
  flags: string[];
  addr_info?: Array<{ local: string; prefixlen: number }>;
}

const inside = (key: string, ...command: string[]): string => execFileSync('nsenter', [`--net=${key}`, ...command], { encoding: 'utf8' });
const linksIn = (key: string): IpLink[] => JSON.parse(inside(key, 'ip', '-j', 'addr', 'show')) as IpLink[];
const defaultRoute = (key: string): string | undefined => (JSON.parse(inside(key, 'ip', '-j', 'route', 'show', 'default')) as Array<{ gateway?: string }>)[0]?.gateway;
const hostVeths = (ns: TestNamespace): IpLink[] => ns.json<IpLink[]>('ip', '-j', 'link', 'show', 'type', 'veth');
const plain = (cidr: string | undefined): string => cidr!.split('/')[0]!;

async function network(c: ControllerHost, name: string, subnet: string, options: Record<string, string> = {}): Promise<NetworkRecord> {
  return c.call<NetworkRecord>('create', { name, driver: 'bridge', options, ipam: { config: [{ subnet }] } });
}

async function setup(t: Parameters<typeof createTestNamespace>[0]): Promise<{ ns: TestNamespace; c: ControllerHost }> {
  const ns = createTestNamespace(t, 'nctl-ep');
  return { ns, c: await startController(t, { netns: ns.path }) };
}

test('two sandboxes on one network reach each other, and the kernel shows what the endpoints say', async (t) => {
  const { ns, c } = await setup(t);
  const net = await network(c, 'n1', '10.71.0.0/24', { 'com.docker.network.driver.mtu': '1400' });
  const [a, b] = [await c.call<SandboxRecord>('createSandbox', {}), await c.call<SandboxRecord>('createSandbox', {})];
  const ea = await c.call<EndpointRecord>('connect', 'n1', a.id, { name: 'alpha' });
  const eb = await c.call<EndpointRecord>('connect', net.id.slice(0, 8), b.id);
  t.like(ea, { name: 'alpha', ifname: 'eth0', mac: '02:42:0a:47:00:02', ipv4: { address: '10.71.0.2/24' }, gateway4: '10.71.0.1' });
  t.is(eb.ipv4?.address, '10.71.0.3/24');

  const eth0 = linksIn(a.key).find((l) => l.ifname === 'eth0')!;
  t.like(eth0, { mtu: 1400, address: '02:42:0a:47:00:02' });
  t.deepEqual(eth0.addr_info?.map((x) => `${x.local}/${x.prefixlen}`), ['10.71.0.2/24'], 'no IPv6 link-local on an IPv4-only endpoint: IPv6 stays silent there');
  t.true(linksIn(a.key).find((l) => l.ifname === 'lo')!.flags.includes('UP'));
  t.is(defaultRoute(a.key), '10.71.0.1');

  const veth = hostVeths(ns).find((l) => l.ifname === `veth${ea.id.slice(0, 11)}`)!;
  t.like(veth, { master: `br-${net.id.slice(0, 12)}`, mtu: 1400 });
  const port = ns.json<Array<{ ifname: string; hairpin?: boolean }>>('bridge', '-d', '-j', 'link', 'show', 'dev', veth.ifname)[0]!;
  t.true(port.hairpin, 'hairpin is on at the bridge port');
  type Queues = Array<{ num_tx_queues: number; num_rx_queues: number }>;
  const queues = ([ip]: Queues): number[] => [ip!.num_tx_queues, ip!.num_rx_queues];
  t.deepEqual(queues(ns.json<Queues>('ip', '-d', 'link', 'show', 'dev', veth.ifname)), [1, 1], 'one queue each way, the one a veth uses');
  t.deepEqual(queues(JSON.parse(inside(a.key, 'ip', '-d', '-j', 'link', 'show', 'dev', 'eth0')) as Queues), [1, 1]);

  t.true(pings({ path: a.key }, '10.71.0.3'));
  t.true(pings({ path: b.key }, '10.71.0.1'));

  const refused = await t.throwsAsync(c.call('delete', 'n1'), { instanceOf: RemoteError });
  t.is(refused?.name, 'ForbiddenError');
  t.is(refused?.message, `error while removing network: network n1 id ${net.id} has active endpoints`);
  t.deepEqual((await c.call<EndpointRecord[]>('endpoints', { networkId: net.id })).map((e) => e.id).sort(), [ea.id, eb.id].sort());

  await c.call('disconnect', 'n1', b.id);
  t.false(linksIn(b.key).some((l) => l.ifname === 'eth0'));
  await c.call('deleteSandbox', a.id);
  await c.call('deleteSandbox', b.id);
  t.false(fs.existsSync(a.key));
  await c.call('delete', 'n1');
  t.deepEqual(hostVeths(ns), []);
  t.deepEqual(fs.readdirSync(path.dirname(a.key)), []);
});

test('connect and disconnect live: another network reaches a sandbox only while connected; the default route follows the first network', async (t) => {
  const { c } = await setup(t);
  await network(c, 'front', '10.72.0.0/24');
  await network(c, 'back', '10.73.0.0/24');
  const a = await c.call<SandboxRecord>('createSandbox', {});
  const other = await c.call<SandboxRecord>('createSandbox', {});
  const ea = await c.call<EndpointRecord>('connect', 'front', a.id);
  await c.call('connect', 'back', other.id);
  t.false(pings({ path: other.key }, plain(ea.ipv4?.address), 1), 'networks are isolated');

  const joined = await c.call<EndpointRecord>('connect', 'front', other.id);
  t.is(joined.ifname, 'eth1');
  t.true(pings({ path: other.key }, plain(ea.ipv4?.address)));
  t.is(defaultRoute(other.key), '10.73.0.1', 'the default route stays on the first network');

  await c.call('disconnect', 'front', other.id);
  t.false(linksIn(other.key).some((l) => l.ifname === 'eth1'));
  t.false(pings({ path: other.key }, plain(ea.ipv4?.address), 1));

  await c.call('connect', 'front', other.id);
  await c.call('disconnect', 'back', other.id);
  t.is(defaultRoute(other.key), '10.72.0.1', 'the default route moves to the network that is left');
  t.true(pings({ path: other.key }, '10.72.0.1'));
  const reconnected = await c.call<EndpointRecord>('connect', 'back', other.id);
  t.is(reconnected.ifname, 'eth0', 'the lowest free name is reused');
});

test('refused connects leave nothing behind: no veth, no interface, no address taken', async (t) => {
  const { ns, c } = await setup(t);
  await network(c, 'n', '10.74.0.0/24');
  const s = await c.call<SandboxRecord>('createSandbox', {});
  const refusals: Array<[unknown[], string, RegExp]> = [
    [['n', s.id, { ipv4: '10.99.0.5' }], 'InvalidParameterError', /10\.99\.0\.5: it does not belong to any of network n's subnets \(10\.74\.0\.0\/24\)/],
    [['n', s.id, { ipv4: '10.74.0.1' }], 'AddressInUseError', /10\.74\.0\.1/],
    [['n', s.id, { ipv4: 'ten' }], 'InvalidParameterError', /invalid IPv4 address "ten"/],
    [['n', s.id, { mac: '02:42' }], 'InvalidParameterError', /invalid MAC address/],
    [['n', s.id, { ipv6: 'fd00::5' }], 'InvalidParameterError', /created without --ipv6/],
    [['nope', s.id], 'NotFoundError', /network nope not found/],
    [['n', 'f'.repeat(64)], 'NotFoundError', /sandbox f+ not found/],
  ];
  for (const [args, name, message] of refusals) {
    const error = await t.throwsAsync(c.call('connect', ...args), { instanceOf: RemoteError });
    t.is(error?.name, name, JSON.stringify(args));
    t.regex(error?.message ?? '', message);
  }
  t.deepEqual(hostVeths(ns), []);
  t.deepEqual(linksIn(s.key).map((l) => l.ifname), ['lo']);

  // A join that fails in the kernel (the bridge was deleted behind netctl's back) is undone too.
  const bridge = `br-${(await c.call<NetworkRecord>('find', 'n')).id.slice(0, 12)}`;
  ns.run('ip', 'link', 'del', bridge);
  await t.throwsAsync(c.call('connect', 'n', s.id, { ipv4: '10.74.0.9' }));
  ns.run('ip', 'link', 'add', bridge, 'type', 'bridge');
  ns.run('ip', 'link', 'set', bridge, 'up');
  t.is((await c.call<EndpointRecord>('connect', 'n', s.id, { ipv4: '10.74.0.9' })).ipv4?.address, '10.74.0.9/24', 'the address was not kept');
  const twice = await t.throwsAsync(c.call('connect', 'n', s.id), { instanceOf: RemoteError });
  t.is(twice?.name, 'ForbiddenError');
  t.is(hostVeths(ns).length, 1);
});

test('a bridge made again by hand under a running controller (a new index): the next connect finds it by name', async (t) => {
  const { ns, c } = await setup(t);
  const net = await network(c, 'n1', '10.74.0.0/24');
  const bridge = `br-${net.id.slice(0, 12)}`;
  const [a, b] = [await c.call<SandboxRecord>('createSandbox', {}), await c.call<SandboxRecord>('createSandbox', {})];
  await c.call<EndpointRecord>('connect', 'n1', a.id);
  ns.run('ip', 'link', 'del', bridge);
  ns.run('ip', 'link', 'add', bridge, 'type', 'bridge');
  ns.run('ip', 'addr', 'add', '10.74.0.1/24', 'dev', bridge);
  ns.run('ip', 'link', 'set', bridge, 'up');
  const eb = await c.call<EndpointRecord>('connect', 'n1', b.id);
  t.like(hostVeths(ns).find((l) => l.ifname === `veth${eb.id.slice(0, 11)}`), { master: bridge }, 'the veth is on the bridge as it is now');
  t.true(pings({ path: b.key }, '10.74.0.1'));
});

test('restart: endpoints come back, a missing veth is joined again, orphan veths go, a vanished sandbox is dropped', async (t) => {
  const { ns } = await setup(t);
  const first = await startController(t, { netns: ns.path });
  const net = await network(first, 'n', '10.75.0.0/24');
  const [a, b, gone] = [await first.call<SandboxRecord>('createSandbox', {}), await first.call<SandboxRecord>('createSandbox', {}), await first.call<SandboxRecord>('createSandbox', {})];
  const eb = await first.call<EndpointRecord>('connect', 'n', b.id);
  await first.call('connect', 'n', a.id);
  const eGone = await first.call<EndpointRecord>('connect', 'n', gone.id);
  await first.kill();

  ns.run('ip', 'link', 'del', `veth${eb.id.slice(0, 11)}`);
  ns.run('ip', 'link', 'add', 'vethorphan', 'type', 'veth', 'peer', 'name', 'vethorphan2');
  ns.run('ip', 'link', 'set', 'vethorphan', 'master', `br-${net.id.slice(0, 12)}`);
  deleteNamespace(gone.key);
  t.false(pings({ path: a.key }, plain(eb.ipv4?.address), 1));

  const second = await startController(t, { netns: ns.path, root: first.root, runDir: first.runDir });
  t.true(pings({ path: a.key }, plain(eb.ipv4?.address)), 'b was joined again');
  t.is(defaultRoute(b.key), '10.75.0.1');
  t.false(hostVeths(ns).some((l) => l.ifname === 'vethorphan'));
  const endpoints = await second.call<EndpointRecord[]>('endpoints', { networkId: net.id });
  t.is(endpoints.length, 2);
  await t.throwsAsync(second.call('sandbox', gone.id), { message: /not found/ });
  const d = await second.call<SandboxRecord>('createSandbox', {});
  t.is((await second.call<EndpointRecord>('connect', 'n', d.id, { ipv4: plain(eGone.ipv4?.address) })).ipv4?.address, eGone.ipv4?.address, "the vanished sandbox's address was released");
});
