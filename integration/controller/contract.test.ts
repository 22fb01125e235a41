// The driver contract as the core keeps it, over a scripted driver, against the kernel. Each test
// has its own test host: the controller runs in this process over an in-memory store, with its
// netlink handle in the test host (the namespace its networks belong to) and its sandboxes in a
// directory of the test's own; the scripted driver makes its interfaces in the test host or in
// the sandbox. Nothing here touches this process's own namespace.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type EndpointRecord, ForbiddenError, InvalidParameterError, type SandboxRecord } from '../../src/controller';
import type { EndpointSpec, NetworkSpec, PortMapping } from '../../src/drivers/driver';
import { GATEWAY_ADDRESS_TYPE, type IpamDriver, type IpamRequestOptions, LOCAL_SPACE, MAC_ADDRESS_OPTION, type PoolRequest, REQUEST_ADDRESS_TYPE, SERIAL_ALLOCATION_OPTION } from '../../src/ipam';
import { NetlinkHandle } from '../../src/netlink';
import { deleteNamespace } from '../../src/native/netns';
import { DAEMON_OWNERSHIP } from '../../src/kernel/ownership';
import { type Core, type CoreOptions, openCore, RecordingTables } from '../../test/helpers/core';
import { type DriverMethod, ScriptedDriver, ScriptedFailure, type ScriptedDriverOptions } from '../../test/helpers/scripted-driver';
import { pings } from '../firewall/topology';
import { cleanupSandboxDir, RemoteError, startController } from '../helpers/controller-host';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { type ExtraJoinInfo, handedOver, hostPeer, macvlanHandOver, vethHandOver, vethInSandbox } from '../helpers/scripted-interfaces';

interface IpLink {
  ifname: string;
  group: string;
  address: string;
  flags: string[];
  addr_info?: Array<{ local: string; prefixlen: number; scope: string }>;
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
  scope?: string;
}

const inside = (key: string, ...command: string[]): string => execFileSync('nsenter', [`--net=${key}`, ...command], { encoding: 'utf8' });
const linksIn = (key: string): IpLink[] => JSON.parse(inside(key, 'ip', '-j', 'addr', 'show')) as IpLink[];
const namesIn = (key: string): string[] => linksIn(key).map((l) => l.ifname).sort();
const routesIn = (key: string, family = '-4'): IpRoute[] => JSON.parse(inside(key, 'ip', '-j', family, 'route', 'show')) as IpRoute[];
const defaultRoute = (key: string): IpRoute | undefined => routesIn(key).find((r) => r.dst === 'default');
const addressesOf = (link: IpLink | undefined): string[] => (link?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
const hostLinks = (ns: TestNamespace): string[] => ns.json<IpLink[]>('ip', 'link', 'show').map((l) => l.ifname).sort();
const web: PortMapping = { protocol: 'tcp', hostPort: 8080, containerPort: 80 };

interface Host {
  ns: TestNamespace;
  /** A handle in the test host: the core's, and the scripted driver's. */
  netlink: NetlinkHandle;
  sandboxDir: string;
  tables: RecordingTables;
  /** A controller over the test host (a new store unless `store` is another core's). */
  open(drivers: ScriptedDriver[], options?: Pick<CoreOptions, 'store'>): Promise<Core>;
}

async function testHost(t: ExecutionContext): Promise<Host> {
  const ns = createTestNamespace(t, 'nctl-cnm');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-cnm-'));
  const sandboxDir = path.join(dir, 'netns');
  const netlink = NetlinkHandle.open({ netns: ns.path });
  t.teardown(() => {
    netlink.close();
    cleanupSandboxDir(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const tables = new RecordingTables();
  return { ns, netlink, sandboxDir, tables, open: (drivers, options = {}) => openCore(t, { drivers, netlink, sandboxDir, tables, ...options }) };
}

const scripted = (script: ScriptedDriverOptions['script'], options: Omit<ScriptedDriverOptions, 'script'> = {}): ScriptedDriver => new ScriptedDriver({ ...options, script });

/** The sandbox holds nothing but its loopback, and the test host nothing the driver made (only `before`). */
function assertNothingLeft(t: ExecutionContext, host: Host, sandbox: SandboxRecord, before = ['lo']): void {
  t.deepEqual(namesIn(sandbox.key), ['lo'], 'no interface left in the sandbox');
  t.deepEqual(hostLinks(host.ns), before, 'no interface left in the test host');
}

test("a driver's proposed addresses and MAC on a network of the null IPAM are the interface's", async (t) => {
  const host = await testHost(t);
  const driver = scripted({
    ...vethInSandbox(host.netlink),
    createEndpoint: () => ({ ipv4: '192.0.2.10/24', ipv6: '2001:db8::10/64', mac: '0A:11:22:33:44:55' }),
  }, { capability: { createsInSandbox: true } });
  const { controller } = await host.open([driver]);
  await controller.create({ name: 'proposed', driver: 'scripted', enableIPv6: true, ipam: { driver: 'null' } });
  const sandbox = await controller.createSandbox();
  const endpoint = await controller.connect('proposed', sandbox.id);
  t.like(endpoint, { ifname: 'eth0', mac: '0a:11:22:33:44:55', ipv4: { poolId: '', address: '192.0.2.10/24' }, ipv6: { poolId: '', address: '2001:db8::10/64' } });
  const [, spec] = driver.callsOf('createEndpoint')[0]!.args as [NetworkSpec, EndpointSpec];
  t.deepEqual([spec.ipv4, spec.ipv6, spec.mac], [undefined, undefined, ''], 'the driver was shown what the null IPAM left empty');
  const eth0 = linksIn(sandbox.key).find((l) => l.ifname === 'eth0');
  t.is(eth0?.address, '0a:11:22:33:44:55');
  t.true(eth0?.flags.includes('UP'));
  t.deepEqual(addressesOf(eth0).sort(), ['192.0.2.10/24', '2001:db8::10/64']);
  t.deepEqual(controller.addresses(sandbox.id), ['192.0.2.10', '2001:db8::10']);
  await controller.disconnect('proposed', sandbox.id);
  t.deepEqual(namesIn(sandbox.key), ['lo']);
});

test('the driver is shown the addresses and MAC the core filled', async (t) => {
  const host = await testHost(t);
  const driver = scripted(vethHandOver(host.netlink, 'eth'));
  const { controller } = await host.open([driver]);
  await controller.create({ name: 'n1', driver: 'scripted', ipam: { config: [{ subnet: '10.82.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  const endpoint = await controller.connect('n1', sandbox.id, { mac: '0A:00:00:00:00:01' });
  const [, spec] = driver.callsOf('createEndpoint')[0]!.args as [NetworkSpec, EndpointSpec];
  t.like(spec, { id: endpoint.id, ipv4: endpoint.ipv4!.address, mac: '0a:00:00:00:00:01' });
  t.is(linksIn(sandbox.key).find((l) => l.ifname === 'eth0')?.address, '0a:00:00:00:00:01');
});

test('a driver contradicting the address the IPAM gave is refused, and the endpoint undone', async (t) => {
  const host = await testHost(t);
  const driver = scripted({ ...vethHandOver(host.netlink, 'eth'), createEndpoint: () => ({ ipv4: '10.82.0.99/24' }) });
  const { controller, ipam } = await host.open([driver]);
  const network = await controller.create({ name: 'n1', driver: 'scripted', ipam: { config: [{ subnet: '10.82.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  driver.clearCalls();
  await t.throwsAsync(controller.connect('n1', sandbox.id), {
    instanceOf: ForbiddenError,
    message: 'driver "scripted" proposed the IPv4 address 10.82.0.99/24 for an endpoint that has 10.82.0.2/24 from the IPAM: a driver may only fill what the IPAM left empty',
  });
  t.deepEqual(driver.sequence(), ['createEndpoint', 'deleteEndpoint'], 'the endpoint the driver made is deleted; no join');
  t.deepEqual(await ipam.endpointAddresses(network.allocations[0]!.poolId), []);
  t.deepEqual(controller.endpoints({ sandboxId: sandbox.id }), []);
  assertNothingLeft(t, host, sandbox);
  // Repeating what the core filled is no contradiction.
  driver.script.createEndpoint = (_n, e) => ({ ipv4: e.ipv4, mac: '02:42:0A:52:00:03' });
  const endpoint = await controller.connect('n1', sandbox.id, { mac: '02:42:0a:52:00:03' });
  t.like(endpoint, { ipv4: { address: '10.82.0.2/24' }, mac: '02:42:0a:52:00:03' });
});

test('an interface handed over by name is moved into the sandbox and named the prefix and the next free index', async (t) => {
  const host = await testHost(t);
  const driver = scripted(vethHandOver(host.netlink, 'wan'));
  const { controller } = await host.open([driver]);
  await controller.create({ name: 'a', driver: 'scripted', ipam: { config: [{ subnet: '10.83.0.0/24' }] } });
  await controller.create({ name: 'b', driver: 'scripted', ipam: { config: [{ subnet: '10.84.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  const ea = await controller.connect('a', sandbox.id);
  const eb = await controller.connect('b', sandbox.id);
  t.deepEqual([ea.ifname, eb.ifname], ['wan0', 'wan1']);
  const [, , target] = driver.callsOf('join')[0]!.args as [unknown, unknown, { ifname: string; sandboxKey: string }];
  t.like(target, { ifname: 'eth0', sandboxKey: sandbox.key }, 'the join was offered the driver’s own prefix; the hand-over chose another');
  t.deepEqual(namesIn(sandbox.key), ['lo', 'wan0', 'wan1']);
  const wan0 = linksIn(sandbox.key).find((l) => l.ifname === 'wan0');
  t.is(wan0?.address, ea.mac, 'the moved interface has the endpoint’s MAC');
  t.is(wan0?.group, String(DAEMON_OWNERSHIP.linkGroup), 'marked as the controller\'s from the move on, for a crash before its record');
  t.deepEqual(addressesOf(wan0), [ea.ipv4!.address]);
  t.deepEqual(hostLinks(host.ns), ['lo', hostPeer(ea), hostPeer(eb)].sort(), 'the handed-over ends left the test host');
  t.is(defaultRoute(sandbox.key)?.dev, 'wan0');

  // The handed-over veth carries traffic: its peer in the test host answers for the gateway.
  host.ns.run('ip', 'addr', 'add', '10.83.0.1/24', 'dev', hostPeer(ea));
  t.true(pings({ path: sandbox.key }, '10.83.0.1'));

  // As libnetwork does, the core gives a handed-over interface back under its old name before the
  // leave, so its driver finds it where it made it (a plugin's macvlan, say).
  const backAtLeave: Array<string | number | undefined> = [];
  const leave = driver.script.leave;
  driver.script.leave = async (n, e) => {
    backAtLeave.push(host.ns.json<Array<{ ifname: string; group: string | number }>>('ip', 'link', 'show').find((l) => l.ifname === handedOver(e))?.group);
    await leave(n, e);
  };
  await controller.disconnect('a', sandbox.id);
  t.deepEqual(namesIn(sandbox.key), ['lo', 'wan1']);
  const again = await controller.connect('a', sandbox.id);
  t.is(again.ifname, 'wan0', 'the lowest free index again');
  await controller.deleteSandbox(sandbox.id);
  t.deepEqual(backAtLeave, ['default', 'default', 'default'], 'back in the test host, out of the controller\'s group, at each leave: one disconnect, two in the sandbox removal');
  t.deepEqual(hostLinks(host.ns), ['lo']);
});

test('an endpoint handed over again after a restart keeps its interface name while it is free', async (t) => {
  const host = await testHost(t);
  const first = await host.open([scripted(vethHandOver(host.netlink, 'wan'))]);
  await first.controller.create({ name: 'a', driver: 'scripted', ipam: { config: [{ subnet: '10.83.0.0/24' }] } });
  await first.controller.create({ name: 'b', driver: 'scripted', ipam: { config: [{ subnet: '10.84.0.0/24' }] } });
  const sandbox = await first.controller.createSandbox();
  await first.controller.connect('a', sandbox.id);
  const eb = await first.controller.connect('b', sandbox.id);
  await first.controller.disconnect('a', sandbox.id);
  await first.close();
  // As after a crash that took the interface: the driver's restore asks for the endpoint again.
  host.ns.run('ip', 'link', 'del', hostPeer(eb));
  const driver = scripted(vethHandOver(host.netlink, 'wan'));
  driver.script.restore = () => ({ rejoin: [eb.id], failed: [] });
  await host.open([driver], { store: first.store });
  t.deepEqual(namesIn(sandbox.key), ['lo', 'wan1'], 'wan1 again, not the lowest free wan0');
});

test('static routes from the join are installed in the sandbox through the interface', async (t) => {
  const host = await testHost(t);
  const routes: ExtraJoinInfo = () => ({ staticRoutes: [{ destination: '10.99.0.0/16', nextHop: '10.85.0.254' }, { destination: '198.51.100.0/24' }] });
  const { controller } = await host.open([scripted(vethHandOver(host.netlink, 'eth', routes))]);
  await controller.create({ name: 'routed', driver: 'scripted', ipam: { config: [{ subnet: '10.85.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  await controller.connect('routed', sandbox.id);
  const installed = routesIn(sandbox.key);
  t.like(installed.find((r) => r.dst === '10.99.0.0/16'), { gateway: '10.85.0.254', dev: 'eth0' });
  t.like(installed.find((r) => r.dst === '198.51.100.0/24'), { dev: 'eth0', scope: 'link' });
  t.like(defaultRoute(sandbox.key), { gateway: '10.85.0.1', dev: 'eth0' });
});

test('an endpoint whose driver disables the gateway service never carries the default route', async (t) => {
  const host = await testHost(t);
  const declining = scripted(vethHandOver(host.netlink, 'eth', () => ({ disableGatewayService: true })), { type: 'declining' });
  const plain = scripted(vethHandOver(host.netlink, 'eth'));
  const { controller } = await host.open([declining, plain]);
  await controller.create({ name: 'off', driver: 'declining', ipam: { config: [{ subnet: '10.86.0.0/24' }] } });
  await controller.create({ name: 'on', driver: 'scripted', ipam: { config: [{ subnet: '10.87.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  const off = await controller.connect('off', sandbox.id);
  t.like(off, { gateway4: '10.86.0.1', noGatewayService: true });
  t.is(defaultRoute(sandbox.key), undefined, 'first connected, with a gateway, and still no default route');
  await controller.connect('on', sandbox.id);
  t.like(defaultRoute(sandbox.key), { gateway: '10.87.0.1', dev: 'eth1' });
  await controller.disconnect('on', sandbox.id);
  t.is(defaultRoute(sandbox.key), undefined, 'the route does not move to the declining endpoint');
});

test('table entries of a join are published, kept with the endpoint, and withdrawn when it leaves, after a restart too', async (t) => {
  const host = await testHost(t);
  const entries: ExtraJoinInfo = (_n, e) => ({ tableEntries: [{ table: 'peers', key: e.id, value: Buffer.from(e.ipv4!) }] });
  const first = await host.open([scripted(vethHandOver(host.netlink, 'eth', entries))]);
  const network = await first.controller.create({ name: 'gossip', driver: 'scripted', ipam: { config: [{ subnet: '10.88.0.0/24' }] } });
  const [s1, s2] = [await first.controller.createSandbox(), await first.controller.createSandbox()];
  const e1 = await first.controller.connect('gossip', s1.id);
  const e2 = await first.controller.connect('gossip', s2.id);
  const entryOf = (e: EndpointRecord) => ({ table: 'peers', key: e.id, value: e.ipv4!.address });
  t.deepEqual(host.tables.log, [
    { op: 'publish', networkId: network.id, entries: [entryOf(e1)] },
    { op: 'publish', networkId: network.id, entries: [entryOf(e2)] },
  ]);
  t.deepEqual(e1.tableEntries, [{ table: 'peers', key: e1.id, value: Buffer.from(e1.ipv4!.address).toString('base64') }]);
  await first.controller.disconnect('gossip', s1.id);
  t.deepEqual(host.tables.log.at(-1), { op: 'withdraw', networkId: network.id, entries: [entryOf(e1)] });
  await first.close();

  // Another controller on the same store withdraws what the first one's join published.
  const second = await host.open([scripted(vethHandOver(host.netlink, 'eth', entries))], { store: first.store });
  // What the cluster agent publishes again when it starts.
  t.deepEqual(second.controller.publishedEntries(), [{ networkId: network.id, entries: [{ ...entryOf(e2), value: Buffer.from(e2.ipv4!.address) }] }]);
  await second.controller.deleteSandbox(s2.id);
  t.deepEqual(second.controller.publishedEntries(), []);
  t.deepEqual(host.tables.log.at(-1), { op: 'withdraw', networkId: network.id, entries: [entryOf(e2)] });
  t.is(host.tables.log.length, 4);
});

test('a sandbox renamed: its endpoints publish their entries again as the driver rewrites them for the new name, and keep them', async (t) => {
  const host = await testHost(t);
  const entries: ExtraJoinInfo = (_n, e) => ({ tableEntries: [{ table: 'names', key: e.id, value: Buffer.from(`${e.name}@${e.ipv4!}`) }] });
  const driver = scripted(vethHandOver(host.netlink, 'eth', entries));
  driver.renamedEntry = (table, value, name) => (table === 'names' ? Buffer.from(`${name}@${value.toString().split('@')[1]}`) : undefined);
  const core = await host.open([driver]);
  const network = await core.controller.create({ name: 'named', driver: 'scripted', ipam: { config: [{ subnet: '10.89.0.0/24' }] } });
  const sandbox = await core.controller.createSandbox();
  const endpoint = await core.controller.connect('named', sandbox.id, { name: 'before' });
  await core.controller.renameEndpoints(sandbox.id, 'after');
  const renamed = { table: 'names', key: endpoint.id, value: `after@${endpoint.ipv4!.address}` };
  t.deepEqual(host.tables.log.at(-1), { op: 'publish', networkId: network.id, entries: [renamed] });
  t.deepEqual(core.controller.publishedEntries(), [{ networkId: network.id, entries: [{ ...renamed, value: Buffer.from(renamed.value) }] }]);
  // The cluster refusing the new entry refuses the rename (400), and nothing changes.
  host.tables.failNextPublish();
  await t.throwsAsync(core.controller.renameEndpoints(sandbox.id, 'refused'), { instanceOf: InvalidParameterError, message: /cannot rename to refused: the endpoint's entries on network named cannot be published with it \(scripted failure publishing table entries\)/ });
  t.is(core.controller.endpoints({ sandboxId: sandbox.id })[0]!.name, 'after');
  t.deepEqual(core.controller.publishedEntries(), [{ networkId: network.id, entries: [{ ...renamed, value: Buffer.from(renamed.value) }] }]);
  t.is(host.tables.log.length, 2);
  // A driver without renamedEntry (or an entry naming nothing) publishes nothing new.
  driver.renamedEntry = () => undefined;
  await core.controller.renameEndpoints(sandbox.id, 'again');
  t.is(host.tables.log.length, 2);
  await core.controller.deleteSandbox(sandbox.id);
  t.deepEqual(host.tables.log.at(-1), { op: 'withdraw', networkId: network.id, entries: [renamed] });
});

test('revokeExternalConnectivity comes before the leave, on disconnect and sandbox removal, also from a driver without port details', async (t) => {
  const host = await testHost(t);
  const detailed = scripted(vethHandOver(host.netlink, 'eth'));
  const silentDriver = scripted({ ...vethHandOver(host.netlink, 'eth'), programExternalConnectivity: () => [] }, { type: 'plugin' });
  const { controller } = await host.open([detailed, silentDriver]);
  await controller.create({ name: 'ports', driver: 'scripted', ipam: { config: [{ subnet: '10.89.0.0/24' }] } });
  await controller.create({ name: 'plugged', driver: 'plugin', ipam: { config: [{ subnet: '10.90.0.0/24' }] } });
  const tail: DriverMethod[] = ['programExternalConnectivity', 'revokeExternalConnectivity', 'leave', 'deleteEndpoint'];

  const a = await controller.createSandbox();
  const ea = await controller.connect('ports', a.id);
  t.deepEqual(await controller.publish(a.id, [web]), [web]);
  t.deepEqual(controller.publishedPorts(a.id), [web]);
  await controller.disconnect('ports', a.id);
  t.deepEqual(detailed.sequence(tail), tail);
  t.is((detailed.callsOf('revokeExternalConnectivity')[0]!.args[1] as EndpointSpec).id, ea.id);

  for (const remove of [(s: SandboxRecord) => controller.disconnect('plugged', s.id), (s: SandboxRecord) => controller.deleteSandbox(s.id)]) {
    silentDriver.clearCalls();
    const s = await controller.createSandbox();
    await controller.connect('plugged', s.id);
    t.deepEqual(await controller.publish(s.id, [web]), []);
    await remove(s);
    t.deepEqual(silentDriver.sequence(tail), tail, 'what the driver programmed is revoked though it reported no ports');
  }
});

test('a driver that cannot leave: disconnect fails and keeps the endpoint; a sandbox removal goes on, as Docker removes a container whose plugin is gone', async (t) => {
  const host = await testHost(t);
  const driver = scripted(vethHandOver(host.netlink, 'eth'));
  const { controller } = await host.open([driver]);
  await controller.create({ name: 'stubborn', driver: 'scripted', ipam: { config: [{ subnet: '10.91.0.0/24' }] } });
  const s = await controller.createSandbox();
  const endpoint = await controller.connect('stubborn', s.id);
  driver.failNext('leave');
  await t.throwsAsync(controller.disconnect('stubborn', s.id), { message: /scripted failure of leave/ });
  t.deepEqual(controller.endpoints({ sandboxId: s.id }).map((e) => e.id), [endpoint.id]);
  driver.failNext('leave');
  await controller.deleteSandbox(s.id);
  t.false(controller.sandboxes().some((x) => x.id === s.id));
  t.deepEqual(controller.endpoints({ networkId: (await controller.find('stubborn')).id }), []);
  // Its address is free again.
  const again = await controller.createSandbox();
  t.is((await controller.connect('stubborn', again.id, { ipv4: endpoint.ipv4!.address.split('/')[0]! })).ipv4?.address, endpoint.ipv4!.address);
});

test('a refused program publishes nothing; ports the store could not record are revoked', async (t) => {
  const host = await testHost(t);
  const driver = scripted(vethHandOver(host.netlink, 'eth'));
  const core = await host.open([driver]);
  const { controller } = core;
  await controller.create({ name: 'ports', driver: 'scripted', ipam: { config: [{ subnet: '10.91.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  const endpoint = await controller.connect('ports', sandbox.id);
  driver.clearCalls();
  driver.failNext('programExternalConnectivity');
  await t.throwsAsync(controller.publish(sandbox.id, [web]), { instanceOf: ScriptedFailure });
  t.deepEqual(controller.publishedPorts(sandbox.id), []);

  core.store.failNextPut('endpoints/');
  await t.throwsAsync(controller.publish(sandbox.id, [web]), { instanceOf: ScriptedFailure });
  t.deepEqual(driver.sequence(), ['programExternalConnectivity', 'programExternalConnectivity', 'revokeExternalConnectivity']);
  t.deepEqual(controller.publishedPorts(sandbox.id), []);
  t.is(JSON.parse((await core.store.get(`endpoints/${endpoint.id}`))!.value.toString()).ports, undefined);
  await controller.disconnect('ports', sandbox.id);
  t.deepEqual(driver.sequence(), ['programExternalConnectivity', 'programExternalConnectivity', 'revokeExternalConnectivity', 'leave', 'deleteEndpoint'], 'nothing left to revoke');
});

interface FailureCase {
  title: string;
  /** How the driver makes the interface. */
  kind: 'veth' | 'macvlan' | 'in-sandbox';
  fail(driver: ScriptedDriver, core: Core): void;
  /** The driver's calls of the connect, in order. */
  calls: DriverMethod[];
  /** Whether the entries had been published (and must be withdrawn). */
  published?: boolean;
}

const FAILURES: FailureCase[] = [
  { title: 'createEndpoint', kind: 'veth', fail: (d) => d.failNext('createEndpoint'), calls: ['createEndpoint'] },
  { title: 'join', kind: 'veth', fail: (d) => d.failNext('join'), calls: ['createEndpoint', 'join', 'deleteEndpoint'] },
  {
    title: 'the move of a handed-over interface that is not there',
    kind: 'veth',
    fail: (d) => (d.script.join = () => ({ interface: { srcName: 'nosuchlink0', dstPrefix: 'wan' } })),
    calls: ['createEndpoint', 'join', 'leave', 'deleteEndpoint'],
  },
  {
    title: 'the MAC of a handed-over interface, refused after the move',
    kind: 'macvlan',
    // A multicast MAC has the right form; the kernel refuses it only when the core sets it.
    fail: (d) => (d.script.createEndpoint = () => ({ mac: '01:00:5e:00:00:01' })),
    calls: ['createEndpoint', 'join', 'leave', 'deleteEndpoint'],
  },
  ...(['veth', 'in-sandbox'] as const).map((kind): FailureCase => ({
    title: `the addresses and routes inside (${kind})`,
    kind,
    // A next hop on no connected network: the kernel refuses the route (ENETUNREACH).
    fail: (d) => {
      const join = d.script.join;
      d.script.join = async (n, e, target) => ({ ...(await join(n, e, target)), staticRoutes: [{ destination: '10.99.0.0/16', nextHop: '203.0.113.1' }] });
    },
    calls: ['createEndpoint', 'join', 'leave', 'deleteEndpoint'],
  })),
  { title: 'the publication of the table entries', kind: 'veth', fail: (_d, core) => core.tables.failNextPublish(), calls: ['createEndpoint', 'join', 'leave', 'deleteEndpoint'] },
  { title: 'the endpoint record', kind: 'veth', fail: (_d, core) => core.store.failNextPut('endpoints/'), calls: ['createEndpoint', 'join', 'leave', 'deleteEndpoint'], published: true },
];

for (const failure of FAILURES) {
  test(`a connect failing at ${failure.title} is undone: no record, no address, no interface`, async (t) => {
    const host = await testHost(t);
    const entries: ExtraJoinInfo = (_n, e) => ({ tableEntries: [{ table: 'peers', key: e.id, value: Buffer.from('x') }] });
    // A macvlan's parent: a veth pair of the test host's own.
    if (failure.kind === 'macvlan') host.ns.run('ip', 'link', 'add', 'up0', 'up', 'type', 'veth', 'peer', 'name', 'up1');
    const before = hostLinks(host.ns);
    const script = failure.kind === 'veth' ? vethHandOver(host.netlink, 'wan', entries) : failure.kind === 'macvlan' ? macvlanHandOver(host.netlink, 'up0', 'wan', entries) : vethInSandbox(host.netlink, entries);
    const driver = scripted(script, { capability: { createsInSandbox: failure.kind === 'in-sandbox' } });
    const core = await host.open([driver]);
    const { controller, ipam, store } = core;
    const network = await controller.create({ name: 'n1', driver: 'scripted', ipam: { config: [{ subnet: '10.92.0.0/24' }] } });
    const sandbox = await controller.createSandbox();
    driver.clearCalls();
    const original = { ...driver.script };
    failure.fail(driver, core);

    await t.throwsAsync(controller.connect('n1', sandbox.id));
    t.deepEqual(driver.sequence(), failure.calls);
    t.deepEqual(controller.endpoints({ sandboxId: sandbox.id }), []);
    t.deepEqual(controller.endpoints({ networkId: network.id }), []);
    t.deepEqual(await store.list('endpoints/'), []);
    t.deepEqual(await ipam.endpointAddresses(network.allocations[0]!.poolId), [], 'the address went back to the IPAM');
    t.deepEqual(ipam.poolIds(LOCAL_SPACE), [network.allocations[0]!.poolId]);
    const published = host.tables.log.filter((r) => r.op === 'publish');
    t.deepEqual(host.tables.log.map((r) => r.op), failure.published ? ['publish', 'withdraw'] : []);
    if (failure.published) t.deepEqual(host.tables.log[1]!.entries, published[0]!.entries);
    assertNothingLeft(t, host, sandbox, before);

    // Nothing stale is in the way of the next connect.
    Object.assign(driver.script, original);
    const endpoint = await controller.connect('n1', sandbox.id);
    t.is(endpoint.ifname, failure.kind === 'in-sandbox' ? 'eth0' : 'wan0');
    t.true(namesIn(sandbox.key).includes(endpoint.ifname));
    await controller.deleteSandbox(sandbox.id);
    t.deepEqual(hostLinks(host.ns), before);
  });
}

test('a network whose driver is missing at open is listed and reported, and works once the driver is registered', async (t) => {
  const host = await testHost(t);
  const first = await host.open([scripted(vethHandOver(host.netlink, 'wan'))]);
  const network = await first.controller.create({ name: 'late', driver: 'scripted', ipam: { config: [{ subnet: '10.93.0.0/24' }] } });
  const early = await first.controller.createSandbox();
  const kept = await first.controller.connect('late', early.id);
  await first.close();

  const { controller } = await host.open([], { store: first.store });
  t.deepEqual(controller.list().map((n) => n.name), ['late']);
  t.is(controller.failure(network.id), 'driver "scripted" is not available');
  const waiting = await controller.createSandbox();
  await t.throwsAsync(controller.connect('late', waiting.id), {
    instanceOf: ForbiddenError,
    message: 'network late could not be brought back when the daemon started (driver "scripted" is not available): remove it and create it again',
  });
  t.deepEqual(namesIn(early.key), ['lo', 'wan0'], 'the endpoint made before stays, interface and all');

  const driver = scripted(vethHandOver(host.netlink, 'wan'));
  await controller.registerDriver(driver);
  t.deepEqual(driver.sequence(), ['restore']);
  const [networks, endpoints] = driver.calls[0]!.args as [NetworkSpec[], EndpointSpec[]];
  t.deepEqual(networks.map((n) => n.id), [network.id]);
  t.like(endpoints, [{ id: kept.id, ipv4: kept.ipv4!.address, sandbox: { sandboxKey: early.key, ifname: 'wan0' } }]);
  t.is(controller.failure(network.id), undefined);
  const joined = await controller.connect('late', waiting.id);
  t.is(joined.ifname, 'wan0');
  t.true(namesIn(waiting.key).includes('wan0'));
  await controller.disconnect('late', early.id);
  t.deepEqual(namesIn(early.key), ['lo'], 'the late driver takes away what its predecessor made');
  t.deepEqual(driver.sequence(), ['restore', 'createEndpoint', 'join', 'leave', 'deleteEndpoint']);
});

test("the bridge's com.docker.network.container_iface_prefix names the container interface", async (t) => {
  const ns = createTestNamespace(t, 'nctl-cnm');
  const c = await startController(t, { netns: ns.path });
  const prefix = { 'com.docker.network.container_iface_prefix': 'lan' };
  await c.call('create', { name: 'p1', driver: 'bridge', options: prefix, ipam: { config: [{ subnet: '10.94.0.0/24' }] } });
  await c.call('create', { name: 'plain', driver: 'bridge', ipam: { config: [{ subnet: '10.95.0.0/24' }] } });
  await c.call('create', { name: 'p2', driver: 'bridge', options: prefix, ipam: { config: [{ subnet: '10.96.0.0/24' }] } });
  const sandbox = await c.call<SandboxRecord>('createSandbox', {});
  const names = [];
  for (const network of ['p1', 'plain', 'p2']) names.push((await c.call<EndpointRecord>('connect', network, sandbox.id)).ifname);
  t.deepEqual(names, ['lan0', 'eth0', 'lan1']);
  // endpointInfo, the driver's operational view an engine's inspect shows: MAC and published ports, as Docker's bridge.
  const published = await c.call<PortMapping[]>('publish', sandbox.id, [web]);
  const [endpoint] = await c.call<EndpointRecord[]>('endpoints', { sandboxId: sandbox.id });
  t.like(await c.call('endpointInfo', endpoint), { 'com.docker.network.endpoint.macaddress': endpoint!.mac, 'com.docker.network.portmap': [{ protocol: 'tcp', containerPort: 80, hostPort: published[0]!.hostPort }] });
  t.deepEqual(namesIn(sandbox.key), ['eth0', 'lan0', 'lan1', 'lo']);
  t.deepEqual(addressesOf(linksIn(sandbox.key).find((l) => l.ifname === 'lan0')), ['10.94.0.2/24']);
  t.like(defaultRoute(sandbox.key), { gateway: '10.94.0.1', dev: 'lan0' });
  t.true(pings({ path: sandbox.key }, '10.94.0.1'));
  // A republish the kernel refuses (a host port another sandbox holds) leaves what was published.
  const other = await c.call<SandboxRecord>('createSandbox', {});
  await c.call('connect', 'plain', other.id);
  const mine = await c.call<PortMapping[]>('publish', other.id, [{ protocol: 'tcp', hostPort: 9090, containerPort: 90 }]);
  const conflict = await t.throwsAsync(c.call('publish', other.id, [{ protocol: 'tcp', hostPort: published[0]!.hostPort, containerPort: 90 }]), { instanceOf: RemoteError });
  t.is(conflict?.name, 'PortConflictError');
  t.deepEqual(await c.call('publishedPorts', other.id), mine);
  t.true(ns.run('iptables-save', '-t', 'nat').includes('--dport 9090'), 'its rule is in the kernel again');
  await c.call('deleteSandbox', other.id);
  const refused = await t.throwsAsync(c.call('create', { name: 'bad', driver: 'bridge', options: { 'com.docker.network.container_iface_prefix': 'a-very-long-prefix' } }), { instanceOf: RemoteError });
  t.is(refused?.name, 'InvalidParameterError');
  await c.call('deleteSandbox', sandbox.id);
  t.deepEqual(hostLinks(ns).filter((l) => l.startsWith('veth')), []);
});

test('two concurrent adoptions of one external namespace make one sandbox; the other is a ConflictError', async (t) => {
  const host = await testHost(t);
  const { controller } = await host.open([]);
  const engine = createTestNamespace(t, 'nctl-cnk');
  const racing = await Promise.allSettled([controller.createSandbox({ key: engine.path }), controller.createSandbox({ key: engine.path })]);
  const made = racing.filter((r): r is PromiseFulfilledResult<SandboxRecord> => r.status === 'fulfilled').map((r) => r.value);
  t.is(made.length, 1);
  t.like(racing.find((r) => r.status === 'rejected'), { reason: { name: 'ConflictError' } });
  t.deepEqual(controller.sandboxes().map((s) => s.id), made.map((s) => s.id));
  await controller.deleteSandbox(made[0]!.id);
});

test('an endpoint whose driver gives no interface holds no name: the next real interface is eth0', async (t) => {
  const host = await testHost(t);
  const none = scripted({ join: () => ({}) }, { type: 'plain' });
  const { controller } = await host.open([none, scripted(vethInSandbox(host.netlink), { capability: { createsInSandbox: true } })]);
  await controller.create({ name: 'plain', driver: 'plain', ipam: { config: [{ subnet: '10.91.0.0/24' }] } });
  await controller.create({ name: 'real', driver: 'scripted', ipam: { config: [{ subnet: '10.92.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  const first = await controller.connect('plain', sandbox.id);
  t.is(first.ifname, '');
  const second = await controller.connect('real', sandbox.id);
  t.is(second.ifname, 'eth0');
  t.deepEqual(namesIn(sandbox.key), ['eth0', 'lo']);
});

test('a sandbox whose namespace is gone at the next start: its endpoints are revoked, left, withdrawn and deleted through their driver, then dropped', async (t) => {
  const host = await testHost(t);
  const entries: ExtraJoinInfo = (_n, e) => ({ tableEntries: [{ table: 'peers', key: e.id, value: Buffer.from(e.ipv4!) }] });
  const first = await host.open([scripted({ ...vethHandOver(host.netlink, 'eth', entries), programExternalConnectivity: () => [] })]);
  const network = await first.controller.create({ name: 'gone', driver: 'scripted', ipam: { config: [{ subnet: '10.93.0.0/24' }] } });
  const sandbox = await first.controller.createSandbox();
  const endpoint = await first.controller.connect('gone', sandbox.id);
  await first.controller.publish(sandbox.id, [web]);
  await first.close();
  deleteNamespace(sandbox.key);

  const driver = scripted(vethHandOver(host.netlink, 'eth', entries));
  const second = await host.open([driver], { store: first.store });
  t.deepEqual(driver.sequence(), ['restore', 'revokeExternalConnectivity', 'leave', 'deleteEndpoint']);
  t.deepEqual(host.tables.log.at(-1), { op: 'withdraw', networkId: network.id, entries: [{ table: 'peers', key: endpoint.id, value: endpoint.ipv4!.address }] });
  t.deepEqual(second.controller.sandboxes(), []);
  t.deepEqual(second.controller.endpoints({ networkId: network.id }), []);
  t.deepEqual(await first.store.list('endpoints/'), []);
  t.deepEqual(await first.store.list('sandboxes/'), []);
  t.false((await second.ipam.endpointAddresses(endpoint.ipv4!.poolId)).includes(endpoint.ipv4!.address), 'its address was released');
});

test('a driver that says it made the interface in the sandbox when its capabilities say it cannot is refused, and the connect undone', async (t) => {
  const host = await testHost(t);
  const driver = scripted(vethInSandbox(host.netlink));
  const { controller } = await host.open([driver]);
  await controller.create({ name: 'liar', driver: 'scripted', ipam: { config: [{ subnet: '10.97.0.0/24' }] } });
  const sandbox = await controller.createSandbox();
  driver.clearCalls();
  await t.throwsAsync(controller.connect('liar', sandbox.id), { name: 'DriverContractError', message: /capabilities say it cannot/ });
  t.deepEqual(driver.sequence(), ['createEndpoint', 'join', 'leave', 'deleteEndpoint']);
  t.deepEqual(controller.endpoints({ sandboxId: sandbox.id }), []);
  assertNothingLeft(t, host, sandbox);
});

/** An IPAM of its own address spaces that wants the MAC with each address, logging what it is asked. */
class RecordingIpam implements IpamDriver {
  readonly name = 'recording';
  readonly capabilities = { requiresMacAddress: true, requiresRequestReplay: false };
  readonly pools: PoolRequest[] = [];
  readonly addresses: Array<{ ip?: string; options?: IpamRequestOptions }> = [];
  private next = 2;

  async getDefaultAddressSpaces(): Promise<{ localDefaultAddressSpace: string; globalDefaultAddressSpace: string }> {
    return { localDefaultAddressSpace: 'RecordingLocal', globalDefaultAddressSpace: 'RecordingGlobal' };
  }

  async requestPool(request: PoolRequest): Promise<{ poolId: string; pool: string; meta: Record<string, string> }> {
    this.pools.push(request);
    return { poolId: 'recording/10.98.0.0/24', pool: '10.98.0.0/24', meta: {} };
  }

  async releasePool(): Promise<void> {}

  async requestAddress(_poolId: string, ip?: string, options?: IpamRequestOptions): Promise<string> {
    this.addresses.push({ ...(ip !== undefined ? { ip } : {}), ...(options ? { options } : {}) });
    return options?.[REQUEST_ADDRESS_TYPE] === GATEWAY_ADDRESS_TYPE ? '10.98.0.1/24' : `10.98.0.${this.next++}/24`;
  }

  async releaseAddress(): Promise<void> {}
}

test('the core asks the IPAM driver for its address spaces, passes --ipam-opt to its pools, and gives an IPAM that requires it the MAC first', async (t) => {
  const host = await testHost(t);
  const { controller } = await host.open([scripted(vethInSandbox(host.netlink), { capability: { createsInSandbox: true } })]);
  const ipam = new RecordingIpam();
  await controller.registerIpamDriver(ipam);
  const network = await controller.create({ name: 'rec', driver: 'scripted', ipam: { driver: 'recording', options: { zone: 'blue' } } });
  t.like(ipam.pools, [{ addressSpace: 'RecordingLocal', options: { zone: 'blue' }, v6: false }]);
  t.like(network.allocations, [{ addressSpace: 'RecordingLocal', pool: '10.98.0.0/24', gateway: '10.98.0.1/24' }]);
  const sandbox = await controller.createSandbox();
  const endpoint = await controller.connect('rec', sandbox.id);
  t.regex(endpoint.mac, /^02:42:/);
  t.deepEqual(ipam.addresses.at(-1), { options: { [MAC_ADDRESS_OPTION]: endpoint.mac, [SERIAL_ALLOCATION_OPTION]: 'false' } }, 'the MAC chosen before the address, and sent with its request; the lowest free address on a local network');
  t.is(linksIn(sandbox.key).find((l) => l.ifname === 'eth0')?.address, endpoint.mac);
});

test('a network whose IPAM driver is missing at open keeps its kernel state: its driver restores it, its endpoints stay, and it takes new ones once the IPAM is back', async (t) => {
  const host = await testHost(t);
  const first = await host.open([scripted(vethHandOver(host.netlink, 'wan'))]);
  await first.controller.registerIpamDriver(new RecordingIpam());
  const network = await first.controller.create({ name: 'rec', driver: 'scripted', ipam: { driver: 'recording' } });
  const early = await first.controller.createSandbox();
  const kept = await first.controller.connect('rec', early.id);
  await first.close();

  const driver = scripted(vethHandOver(host.netlink, 'wan'));
  const { controller } = await host.open([driver], { store: first.store });
  t.is(controller.failure(network.id), 'IPAM driver "recording" is not available');
  // Its driver was told of it: a driver takes its list as the whole truth and removes what is not in it.
  const [networks, endpoints] = driver.calls.find((c) => c.method === 'restore')!.args as [NetworkSpec[], EndpointSpec[]];
  t.deepEqual(networks.map((n) => n.id), [network.id]);
  t.deepEqual(endpoints.map((e) => e.id), [kept.id]);
  t.deepEqual(namesIn(early.key), ['lo', 'wan0']);
  await controller.registerIpamDriver(new RecordingIpam());
  t.is(controller.failure(network.id), undefined);
  const later = await controller.createSandbox();
  t.truthy((await controller.connect('rec', later.id)).ipv4);
});
