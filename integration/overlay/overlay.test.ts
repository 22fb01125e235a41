// The overlay data plane on real kernels: test hosts on an underlay bridge, each with its own
// OverlayDriver in-process; the endpoint_table entries a join publishes are handed to the other
// hosts' drivers by the test (the cluster agent's job in the daemon). Containers on different
// hosts ping each other over VXLAN (UDP 4789 on the underlay), networks with the same subnet stay
// apart, withdrawn peers and dead hosts stop being reachable, and nothing is left behind.
import test, { type ExecutionContext } from 'ava';
import pino from 'pino';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { OverlayDataPlane, VXLAN_OVERHEAD } from '../../src/drivers/overlay/dataplane';
import { OverlayDriver } from '../../src/drivers/overlay/overlay-driver';
import { decodeEndpointRecord } from '../../src/drivers/overlay/peer-codec';
import type { VniAllocator } from '../../src/drivers/overlay/vni';
import type { EndpointSpec, NetworkSpec, TableEntry } from '../../src/drivers/driver';
import { createNamespace } from '../../src/native/netns';
import { NetlinkHandle } from '../../src/netlink';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { createUnderlay, type UnderlayHost } from '../helpers/underlay';

/** The cluster's VNI allocator, shared by the hosts of a test (etcd's part in the daemon). */
class MemoryVniAllocator implements VniAllocator {
  private readonly vnis = new Map<string, number>();
  private next = 4096;

  async allocateVni(networkId: string, requested?: number): Promise<number> {
    const held = this.vnis.get(networkId);
    if (held !== undefined) return held;
    const vni = requested ?? this.next++;
    if ([...this.vnis.values()].includes(vni)) throw new Error(`VNI ${vni} is taken`);
    this.vnis.set(networkId, vni);
    return vni;
  }

  async releaseVni(networkId: string): Promise<void> {
    this.vnis.delete(networkId);
  }
}

interface OverlayHost {
  underlay: UnderlayHost;
  driver: OverlayDriver;
  netlink: NetlinkHandle;
  namespaceDir: string;
}

const randomId = (): string => crypto.randomBytes(32).toString('hex');

function networkSpec(subnet: string, options: Record<string, string> = {}): NetworkSpec {
  return { id: randomId(), name: `ov-${subnet}`, options, internal: false, enableIPv6: false, ipv4: [{ addressSpace: 'GlobalDefault', pool: `${subnet}.0/24`, auxAddresses: {} }], ipv6: [] };
}

function addHost(t: ExecutionContext, underlay: ReturnType<typeof createUnderlay>, vniAllocator: VniAllocator): OverlayHost {
  const host = underlay.addHost();
  const netlink = NetlinkHandle.open({ netns: host.ns.path });
  t.teardown(() => netlink.close());
  const namespaceDir = `/run/nctl-ov-${host.ns.name}`;
  t.teardown(() => removeNamespaceDir(namespaceDir));
  return { underlay: host, netlink, namespaceDir, driver: new OverlayDriver({ netlink, advertiseAddress: host.address, namespaceDir, vniAllocator, log: pino({ level: 'silent' }) }) };
}

/** The network on every host, each host's driver told of the others as the cluster agent does (discoverNew). */
async function createNetwork(t: ExecutionContext, hosts: OverlayHost[], spec: NetworkSpec): Promise<void> {
  for (const host of hosts) {
    for (const other of hosts) await host.driver.discoverNew({ address: other.underlay.address, self: other === host });
    const tables: string[] = [];
    await host.driver.createNetwork(spec, { registerTable: (table) => tables.push(table) });
    t.deepEqual(tables, ['endpoint_table']);
    t.teardown(() => host.driver.deleteNetwork(spec));
  }
}

interface Container {
  ns: TestNamespace;
  endpoint: EndpointSpec;
  entries: TableEntry[];
}

/** A container on `host` joined to the network as eth0 with `ip`, the way the core hands the interface in. */
async function runContainer(t: ExecutionContext, host: OverlayHost, spec: NetworkSpec, ip: string, ip6?: string): Promise<Container> {
  const ns = createTestNamespace(t, 'nctl-oc');
  const mac = `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
  const endpoint: EndpointSpec = { id: randomId(), networkId: spec.id, mac, ipv4: `${ip}/24`, ...(ip6 ? { ipv6: `${ip6}/64` } : {}) };
  const info = await host.driver.join(spec, endpoint);
  t.teardown(() => host.driver.leave(spec, endpoint));
  if (!info.interface || !('srcName' in info.interface)) throw new Error('the overlay join gave no interface by name');
  t.is(info.interface.dstPrefix, 'eth');
  await host.netlink.linkSetNetns(info.interface.srcName, ns.path, { name: 'eth0' });
  ns.run('ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
  if (ip6) ns.run('ip', 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad');
  ns.run('ip', 'link', 'set', 'eth0', 'up');
  return { ns, endpoint, entries: info.tableEntries ?? [] };
}

/** What the cluster agent does: every other host's driver hears of the container's entries. */
async function publish(hosts: OverlayHost[], container: Container, type: 'create' | 'delete' = 'create'): Promise<void> {
  for (const host of hosts) {
    for (const entry of container.entries) await host.driver.eventNotify({ type, networkId: container.endpoint.networkId, table: entry.table, key: entry.key, value: entry.value });
  }
}

/** Whether `from` gets an answer from `ip` within a few tries (a first packet may meet a bridge still coming up). */
function pings(from: Container, ip: string, tries = 5): boolean {
  for (let i = 0; i < tries; i++) {
    try {
      from.ns.run('busybox', ip.includes(':') ? 'ping6' : 'ping', '-c', '1', '-W', '1', ip);
      return true;
    } catch {
      // Try again, up to `tries`.
    }
  }
  return false;
}

function udp4789Received(host: OverlayHost): number {
  const out = host.underlay.ns.run('iptables', '-w', '-L', 'INPUT', '-v', '-x', '-n');
  const line = out.split('\n').find((l) => l.includes('udp dpt:4789'));
  return Number(line?.trim().split(/\s+/)[0] ?? NaN);
}

/** The driver made the directory a mount point of its own (namespaces are bind mounts in it). */
function removeNamespaceDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  execFileSync('umount', ['-l', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}

function overlayNamespaces(host: OverlayHost): string[] {
  return fs.existsSync(host.namespaceDir) ? fs.readdirSync(host.namespaceDir) : [];
}

test('containers on two hosts reach each other over VXLAN on UDP 4789, and the data plane goes with the last endpoint', async (t) => {
  const underlay = createUnderlay(t);
  const vnis = new MemoryVniAllocator();
  const [h1, h2] = [addHost(t, underlay, vnis), addHost(t, underlay, vnis)] as [OverlayHost, OverlayHost];
  const spec = networkSpec('10.60.0');
  await createNetwork(t, [h1, h2], spec);
  const c1 = await runContainer(t, h1, spec, '10.60.0.2', 'fd60::2');
  const c2 = await runContainer(t, h2, spec, '10.60.0.3', 'fd60::3');
  const record = decodeEndpointRecord(c1.entries[0]!.value);
  t.like(record, { endpointId: c1.endpoint.id, ipv4: '10.60.0.2/24', ipv6: 'fd60::2/64', mac: c1.endpoint.mac, vtep: h1.underlay.address });

  // The overlay namespace: br0 and vxlan0 as asked, MTU 50 below the underlay's 1500.
  const [nsName] = overlayNamespaces(h1);
  t.is(nsName, `ov-${spec.id}`);
  const ovNs = `--net=${h1.namespaceDir}/${nsName}`;
  const links = JSON.parse(execFileSync('nsenter', [ovNs, 'ip', '-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; mtu: number; linkinfo?: { info_kind: string; info_data?: Record<string, unknown> } }>;
  const vxlan = links.find((l) => l.ifname === 'vxlan0');
  t.like(vxlan?.linkinfo?.info_data, { id: 4096, port: 4789, local: h1.underlay.address, learning: false, proxy: true });
  t.false('l2miss' in (vxlan?.linkinfo?.info_data ?? {}) || 'l3miss' in (vxlan?.linkinfo?.info_data ?? {}), 'no miss notifications');
  t.is(vxlan?.mtu, 1500 - VXLAN_OVERHEAD);
  t.is(links.find((l) => l.ifname === 'br0')?.mtu, 1500 - VXLAN_OVERHEAD);

  t.false(pings(c1, '10.60.0.3', 1), 'no peer programmed yet, no way across');
  await publish([h2], c1);
  await publish([h1], c2);
  for (const host of [h1, h2]) host.underlay.ns.run('iptables', '-w', '-I', 'INPUT', '-p', 'udp', '--dport', '4789');
  const before = udp4789Received(h2);
  t.true(pings(c1, '10.60.0.3'));
  t.true(pings(c2, '10.60.0.2'));
  t.true(pings(c1, 'fd60::3'), 'IPv6 too: neighbour discovery answered by the VXLAN device');
  t.true(udp4789Received(h2) - before >= 2, 'the echo requests arrived at host 2 as UDP 4789');
  // An entry a host publishes about itself comes back to it through the cluster: ignored.
  await publish([h1], c1);
  t.deepEqual(h1.driver.peersOf(spec.id).map((p) => `${p.ip}@${p.vtep}`), [`10.60.0.3@${h2.underlay.address}`, `fd60::3@${h2.underlay.address}`]);

  await h1.driver.leave(spec, c1.endpoint);
  t.deepEqual(overlayNamespaces(h1), [], 'the last endpoint took the namespace with it');
  t.false((await h1.netlink.linkList()).some((l) => l.name.startsWith('ovh')), 'no veth end left on the host');
});

test('a second overlay with the same subnet stays apart', async (t) => {
  const underlay = createUnderlay(t);
  const vnis = new MemoryVniAllocator();
  const hosts = [addHost(t, underlay, vnis), addHost(t, underlay, vnis)] as [OverlayHost, OverlayHost];
  const red = networkSpec('10.61.0');
  const blue = networkSpec('10.61.0', { 'com.docker.network.driver.overlay.vxlanid_list': '5001' });
  await createNetwork(t, hosts, red);
  await createNetwork(t, hosts, blue);
  const red1 = await runContainer(t, hosts[0], red, '10.61.0.2');
  const red2 = await runContainer(t, hosts[1], red, '10.61.0.3');
  const blue1 = await runContainer(t, hosts[0], blue, '10.61.0.4');
  for (const c of [red1, red2, blue1]) await publish(hosts, c);
  t.true(pings(red1, '10.61.0.3'));
  t.false(pings(blue1, '10.61.0.3', 2), 'blue does not reach red at the same address');
  // Blue gets its own 10.61.0.3 on host 2: blue's ping reaches it, not red's.
  const blue2 = await runContainer(t, hosts[1], blue, '10.61.0.3');
  // Same IP as red2 but its own MAC: tell them apart by a distinct MAC.
  await publish(hosts, blue2);
  t.true(pings(blue1, '10.61.0.3'));
  const neighbours = blue1.ns.json<Array<{ dst: string; lladdr: string }>>('ip', 'neigh', 'show', 'dev', 'eth0');
  t.is(neighbours.find((n) => n.dst === '10.61.0.3')?.lladdr, blue2.endpoint.mac);
});

test('a withdrawn peer and a dead host stop being reachable', async (t) => {
  const underlay = createUnderlay(t);
  const vnis = new MemoryVniAllocator();
  const [h1, h2, h3] = [addHost(t, underlay, vnis), addHost(t, underlay, vnis), addHost(t, underlay, vnis)] as [OverlayHost, OverlayHost, OverlayHost];
  const spec = networkSpec('10.62.0');
  await createNetwork(t, [h1, h2, h3], spec);
  const c1 = await runContainer(t, h1, spec, '10.62.0.2');
  const c2 = await runContainer(t, h2, spec, '10.62.0.3');
  const c3 = await runContainer(t, h3, spec, '10.62.0.4');
  for (const c of [c1, c2, c3]) await publish([h1, h2, h3], c);
  t.true(pings(c1, '10.62.0.3'));
  t.true(pings(c1, '10.62.0.4'));

  await publish([h1], c2, 'delete');
  t.false(pings(c1, '10.62.0.3', 2), 'withdrawn: no way to host 2');
  t.true(pings(c1, '10.62.0.4'), 'host 3 still reachable');
  await publish([h1], c2);
  t.true(pings(c1, '10.62.0.3'), 'published again: reachable again');

  await h1.driver.discoverDelete({ address: h3.underlay.address, self: false });
  t.false(pings(c1, '10.62.0.4', 2), 'host 3 declared dead');
  t.true(pings(c1, '10.62.0.3'));
  t.deepEqual(h1.driver.peersOf(spec.id).map((p) => p.vtep), [h2.underlay.address]);
});

test('reconcile leaves exactly the given peers; the data plane tears down to nothing', async (t) => {
  const underlay = createUnderlay(t);
  const host = underlay.addHost();
  const netlink = NetlinkHandle.open({ netns: host.ns.path });
  t.teardown(() => netlink.close());
  const namespaceDir = `/run/nctl-ov-${host.ns.name}`;
  t.teardown(() => removeNamespaceDir(namespaceDir));
  const plane = await OverlayDataPlane.create({ networkId: randomId(), vni: 7001, vtep: host.address, namespaceDir, host: netlink });
  let destroyed = false;
  t.teardown(async () => {
    if (!destroyed) await plane.destroy();
  });
  const kept = { ip: '10.63.0.3', mac: '02:42:0a:3f:00:03', vtep: '10.77.0.9' };
  const stale = { ip: '10.63.0.4', mac: '02:42:0a:3f:00:04', vtep: '10.77.0.10' };
  const moved = { ...kept, vtep: '10.77.0.11' };
  await plane.addPeer(kept);
  await plane.addPeer(stale);
  const ov = NetlinkHandle.open({ netns: plane.nsPath });
  t.teardown(() => ov.close());
  const remote = async (): Promise<string[]> => (await ov.fdbList({ link: 'vxlan0' })).filter((e) => e.destination !== undefined).map((e) => `${e.mac}>${e.destination}`).sort();
  const neighbours = async (): Promise<string[]> => (await ov.neighList({ link: 'vxlan0' })).filter((n) => n.states.includes('permanent')).map((n) => `${n.ip}=${n.mac}`).sort();
  t.deepEqual(await remote(), [`${kept.mac}>${kept.vtep}`, `${stale.mac}>${stale.vtep}`]);

  await plane.addPeer(moved);
  t.deepEqual(await remote(), [`${kept.mac}>${moved.vtep}`, `${stale.mac}>${stale.vtep}`], 'a MAC that moved has one entry, to its new VTEP');

  await plane.reconcile([moved]);
  t.deepEqual(await remote(), [`${kept.mac}>${moved.vtep}`]);
  t.deepEqual(await neighbours(), [`${kept.ip}=${kept.mac}`]);

  await plane.removeVtep(moved.vtep);
  t.deepEqual(await remote(), []);
  t.deepEqual(await neighbours(), []);

  ov.close();
  await plane.destroy();
  destroyed = true;
  t.false(fs.existsSync(plane.nsPath));
  t.deepEqual((await netlink.linkList()).map((l) => l.name).sort(), ['eth0', 'lo'], 'nothing of the overlay left in the host');
});

test('a restarted driver adopts its data plane, drops the peers it no longer knows and takes them back from the table', async (t) => {
  const underlay = createUnderlay(t);
  const vnis = new MemoryVniAllocator();
  const [h1, h2] = [addHost(t, underlay, vnis), addHost(t, underlay, vnis)] as [OverlayHost, OverlayHost];
  const spec = networkSpec('10.64.0');
  await createNetwork(t, [h1, h2], spec);
  const c1 = await runContainer(t, h1, spec, '10.64.0.2');
  const c2 = await runContainer(t, h2, spec, '10.64.0.3');
  await publish([h1, h2], c1);
  await publish([h1, h2], c2);
  t.true(pings(c1, '10.64.0.3'));

  // The daemon on host 1 restarts: a new driver finds the namespace, the veth and old peers,
  // and the namespace of a network deleted while it was down.
  createNamespace(h1.namespaceDir, `ov-${randomId()}`);
  t.is(overlayNamespaces(h1).length, 2);
  const restarted = new OverlayDriver({ netlink: h1.netlink, advertiseAddress: h1.underlay.address, namespaceDir: h1.namespaceDir, vniAllocator: vnis, log: pino({ level: 'silent' }) });
  for (const host of [h1, h2]) await restarted.discoverNew({ address: host.underlay.address, self: host === h1 });
  const tables: string[] = [];
  const result = await restarted.restore([spec], [{ ...c1.endpoint, sandbox: { sandboxKey: c1.ns.path, ifname: 'eth0' } }], () => ({ registerTable: (table) => tables.push(table) }));
  t.teardown(() => restarted.deleteNetwork(spec));
  t.deepEqual(result, { rejoin: [], failed: [] });
  t.deepEqual(tables, ['endpoint_table']);
  t.deepEqual(overlayNamespaces(h1), [`ov-${spec.id}`], 'the orphan namespace is gone');
  t.false(pings(c1, '10.64.0.3', 1), 'peers from before the restart are not trusted');
  await restarted.eventNotify({ type: 'create', networkId: spec.id, table: c2.entries[0]!.table, key: c2.entries[0]!.key, value: c2.entries[0]!.value });
  t.true(pings(c1, '10.64.0.3'), 'the table brings the peer back');
  await restarted.leave(spec, c1.endpoint);
  t.deepEqual(overlayNamespaces(h1), [], 'the adopted data plane goes with its last endpoint');
});
