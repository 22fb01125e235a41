// Link operations against the kernel, each checked with iproute2 (`ip -j -d link`) as oracle.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { type Link, NetlinkError, NetlinkHandle, InvalidArgumentError, LinkNotFoundError } from '../../src/netlink';
import { until } from '../../test/helpers/until';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  master?: string;
  ifalias?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
  num_tx_queues?: number;
  num_rx_queues?: number;
}

/** CPUs the kernel may ever bring online ("0-3,8" in /sys): how many queues it gives a veth by default. */
function possibleCpus(): number {
  const ranges = fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',');
  return ranges.map((r) => r.split('-').map(Number)).reduce((n, [from, to]) => n + (to ?? from!) - from! + 1, 0);
}

function setup(t: Parameters<typeof createTestNamespace>[0]): { ns: TestNamespace; h: NetlinkHandle; ipLink(name: string): IpLink } {
  const ns = createTestNamespace(t);
  const h = NetlinkHandle.open({ netns: ns.path });
  t.teardown(() => h.close());
  return { ns, h, ipLink: (name) => ns.json<IpLink[]>('ip', '-d', 'link', 'show', 'dev', name)[0]! };
}

test('bridge: created with MTU, ageing, STP off, MAC and up, as iproute2 sees it', async (t) => {
  const { h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'bridge', name: 'br-test', mtu: 1400, ageingTime: 120, mac: '02:42:00:00:00:01', up: true });
  const ip = ipLink('br-test');
  t.is(ip.linkinfo?.info_kind, 'bridge');
  t.is(ip.mtu, 1400);
  t.is(ip.address, '02:42:00:00:00:01');
  t.true(ip.flags.includes('UP'));
  t.is(ip.linkinfo?.info_data?.['ageing_time'], 12000);
  t.is(ip.linkinfo?.info_data?.['stp_state'], 0);
  const ours = await h.linkGet('br-test');
  t.like(ours, { index: ip.ifindex, name: 'br-test', kind: 'bridge', mtu: 1400, up: true, bridge: { ageingTime: 120, stp: false } });
});

test('veth: the peer is created directly in another namespace, in one request', async (t) => {
  const { ns, h, ipLink } = setup(t);
  const other = createTestNamespace(t);
  await h.linkAdd({ kind: 'veth', name: 'veth-host', peer: { name: 'eth0', netns: other.path, mac: '02:42:00:00:00:02', mtu: 1450 } });
  const host = ipLink('veth-host');
  t.is(host.linkinfo?.info_kind, 'veth');
  const peer = other.json<IpLink[]>('ip', '-d', 'link', 'show', 'dev', 'eth0')[0]!;
  t.is(peer.address, '02:42:00:00:00:02');
  t.is(peer.mtu, 1450);
  t.is(typeof host.link_netnsid, 'number');
  t.false(ns.run('ip', 'link').includes('eth0'));
  const ours = await h.linkGet('veth-host');
  t.is(ours.linkNetnsId, host.link_netnsid);
});

test('veth: each end is made with the queues asked for, not one per possible CPU', async (t) => {
  const { h, ipLink } = setup(t);
  const other = createTestNamespace(t);
  await h.linkAdd({ kind: 'veth', name: 'veth-q', queues: 1, peer: { name: 'eth0', netns: other.path, queues: 1 } });
  await h.linkAdd({ kind: 'veth', name: 'veth-d', peer: { name: 'veth-dp' } });
  const queues = (ip: IpLink): number[] => [ip.num_tx_queues!, ip.num_rx_queues!];
  t.deepEqual(queues(ipLink('veth-q')), [1, 1]);
  t.deepEqual(queues(other.json<IpLink[]>('ip', '-d', 'link', 'show', 'dev', 'eth0')[0]!), [1, 1]);
  // The kernel's default, for comparison: one per possible CPU on recent kernels, one on older ones.
  const possible = possibleCpus();
  t.true([[1, 1], [possible, possible]].some((q) => q.join() === queues(ipLink('veth-d')).join()));
  await t.throwsAsync(h.linkAdd({ kind: 'veth', name: 'veth-z', queues: 0, peer: { name: 'veth-zp' } }), { instanceOf: InvalidArgumentError, message: /queue count/ });
});

test('vxlan: VNI, local VTEP, port 4789, learning off, proxy, l2miss, TTL', async (t) => {
  const { h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'vxlan', name: 'vx-test', vni: 4242, local: '192.0.2.1', learning: false, proxy: true, l2miss: true, ttl: 16, mtu: 1450 });
  const data = ipLink('vx-test').linkinfo?.info_data ?? {};
  t.like(data, { id: 4242, local: '192.0.2.1', port: 4789, learning: false, proxy: true, l2miss: true, ttl: 16 });
  t.like((await h.linkGet('vx-test')).vxlan, { vni: 4242, local: '192.0.2.1', port: 4789, learning: false, proxy: true, l2miss: true, ttl: 16 });
});

test('vxlan: an explicit port, an underlay device and learning on', async (t) => {
  const { h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'veth', name: 'underlay', peer: { name: 'underlay-p' } });
  await h.linkAdd({ kind: 'vxlan', name: 'vx-port', vni: 7, port: 8472, device: 'underlay', l3miss: true, udpChecksum: false });
  const data = ipLink('vx-port').linkinfo?.info_data ?? {};
  t.like(data, { id: 7, port: 8472, link: 'underlay', learning: true, l3miss: true });
});

for (const mode of ['bridge', 'private', 'vepa', 'passthru'] as const) {
  test(`macvlan in ${mode} mode on a parent`, async (t) => {
    const { h, ipLink } = setup(t);
    await h.linkAdd({ kind: 'veth', name: 'parent0', peer: { name: 'parent0-p' } });
    await h.linkAdd({ kind: 'macvlan', name: 'mv0', parent: 'parent0', mode });
    const ip = ipLink('mv0');
    t.is(ip.linkinfo?.info_kind, 'macvlan');
    t.is(ip.linkinfo?.info_data?.['mode'], mode);
    t.like(await h.linkGet('mv0'), { kind: 'macvlan', macvlan: { mode }, parentIndex: (await h.linkGet('parent0')).index });
  });
}

test('linkAddInNamespace: a macvlan made inside another namespace in one request, its parent looked up here', async (t) => {
  const { h } = setup(t);
  const sandbox = createTestNamespace(t);
  await h.linkAdd({ kind: 'veth', name: 'parent0', peer: { name: 'parent0-p' } });
  await h.linkAddInNamespace({ kind: 'macvlan', name: 'eth0', parent: 'parent0', mode: 'private', mac: '02:42:0a:00:00:07' }, sandbox.path);
  const [inside] = sandbox.json<IpLink[]>('ip', '-d', 'link', 'show', 'dev', 'eth0');
  t.like(inside, { ifname: 'eth0', address: '02:42:0a:00:00:07', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
  t.is(typeof inside!.link_netnsid, 'number', 'its parent is in another namespace');
  await t.throwsAsync(h.linkGet('eth0'), { instanceOf: LinkNotFoundError }, 'nothing of it here');
  await t.throwsAsync(h.linkAddInNamespace({ kind: 'macvlan', name: 'eth0', parent: 'parent0' }, sandbox.path), { instanceOf: NetlinkError, message: /EEXIST creating link "eth0" in \/run\/netns\// });
});

test('a namespace named by an open descriptor: the link lands there and the descriptor stays the caller\'s', async (t) => {
  const { h } = setup(t);
  const sandbox = createTestNamespace(t);
  const fd = fs.openSync(sandbox.path, 'r');
  t.teardown(() => fs.closeSync(fd));
  await h.linkAdd({ kind: 'veth', name: 'parent0', peer: { name: 'parent0-p' } });
  await h.linkAddInNamespace({ kind: 'macvlan', name: 'eth0', parent: 'parent0' }, fd);
  await h.linkAdd({ kind: 'veth', name: 'host-end', peer: { name: 'eth1', netns: fd } });
  t.deepEqual(sandbox.json<IpLink[]>('ip', 'link', 'show').map((l) => l.ifname).sort(), ['eth0', 'eth1', 'lo']);
  t.true(fs.fstatSync(fd).isFile(), 'still open after both requests');
});

/**
 * Kinds this kernel may lack, probed once at load (tests are declared synchronously) with
 * iproute2 in a throwaway namespace, so a missing kind is a real, visible skip with its reason.
 */
function kernelHas(kind: 'vlan' | 'dummy'): boolean {
  const name = `nctl-probe-${process.pid}-${kind}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    const run = (...args: string[]): void => void execFileSync('nsenter', [`--net=/run/netns/${name}`, 'ip', 'link', 'add', ...args], { stdio: 'pipe' });
    run('name', 'p0', 'type', 'veth', 'peer', 'name', 'q0');
    run(...(kind === 'vlan' ? ['link', 'p0', 'name', 'p0.5', 'type', 'vlan', 'id', '5'] : ['name', 'dum0', 'type', 'dummy']));
    return true;
  } catch (error) {
    if (/not supported|Unknown device type/i.test(String((error as { stderr?: Buffer }).stderr ?? ''))) return false;
    throw error;
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

const hasVlan = kernelHas('vlan');
const hasDummy = kernelHas('dummy');

(hasVlan ? test : test.skip)(`vlan: an 802.1q sub-interface on a parent${hasVlan ? '' : ' [skipped: this kernel answers EOPNOTSUPP, no 8021q]'}`, async (t) => {
  const { h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'veth', name: 'trunk', peer: { name: 'trunk-p' } });
  await h.linkAdd({ kind: 'vlan', name: 'trunk.10', parent: 'trunk', vlanId: 10 });
  t.is(ipLink('trunk.10').linkinfo?.info_data?.['id'], 10);
});

(hasDummy ? test : test.skip)(`dummy links${hasDummy ? '' : ' [skipped: this kernel answers EOPNOTSUPP, no dummy driver]'}`, async (t) => {
  const { h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'dummy', name: 'dummy0', mtu: 9000 });
  t.is(ipLink('dummy0').mtu, 9000);
});

test('a link the kernel cannot make (a kind it lacks, or a VLAN on lo) fails with a typed EOPNOTSUPP and leaves nothing', async (t) => {
  const { ns, h } = setup(t);
  // Refused on every kernel: without 8021q for the kind, with it because lo is VLAN-challenged.
  const spec = { kind: 'vlan', name: 'lo.7', parent: 'lo', vlanId: 7 } as const;
  const error = await t.throwsAsync(h.linkAdd(spec), { instanceOf: NetlinkError });
  t.is(error?.code, 'EOPNOTSUPP');
  // The kernel's extended ack says why, and the message carries it.
  t.regex(error?.message ?? '', /^EOPNOTSUPP creating link "[^"]+": .*\(kernel: [^)]+\)$/);
  t.deepEqual(ns.json<Array<{ ifname: string }>>('ip', 'link').map((l) => l.ifname), ['lo']);
});

test('set up/down, MTU, MAC, name, alias, master and nomaster', async (t) => {
  const { h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'bridge', name: 'br1' });
  await h.linkAdd({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  await h.linkSetUp('va');
  t.true(ipLink('va').flags.includes('UP'));
  await h.linkSetDown('va');
  t.false(ipLink('va').flags.includes('UP'));
  await h.linkSetMtu('va', 1280);
  t.is(ipLink('va').mtu, 1280);
  await h.linkSetMac('va', '02:42:00:00:00:aa');
  t.is(ipLink('va').address, '02:42:00:00:00:aa');
  await h.linkSetAlias('va', 'container web');
  t.is(ipLink('va').ifalias, 'container web');
  await h.linkSetMaster('va', 'br1');
  t.is(ipLink('va').master, 'br1');
  await h.linkSetNoMaster('va');
  t.is(ipLink('va').master, undefined);
  await h.linkSetName('va', 'renamed');
  t.is(ipLink('renamed').address, '02:42:00:00:00:aa');
  await t.throwsAsync(h.linkGet('va'), { instanceOf: LinkNotFoundError });
});

test('bridge port settings: hairpin, learning and unicast flooding, as bridge -d link shows them', async (t) => {
  const { ns, h } = setup(t);
  await h.linkAdd({ kind: 'bridge', name: 'brp' });
  await h.linkAdd({ kind: 'veth', name: 'port0', peer: { name: 'port0-p' }, master: 'brp' });
  const port = (): { hairpin: boolean; learning: boolean; flood: boolean } => ns.json<Array<{ hairpin: boolean; learning: boolean; flood: boolean }>>('bridge', '-d', 'link', 'show', 'dev', 'port0')[0]!;
  t.like(port(), { hairpin: false, learning: true, flood: true });
  await h.bridgePortSet('port0', { hairpin: true, learning: false, flood: false });
  t.like(port(), { hairpin: true, learning: false, flood: false });
  await h.bridgePortSet('port0', { learning: true });
  t.like(port(), { hairpin: true, learning: true, flood: false });
  // A link that is not a bridge port has no such settings.
  await t.throwsAsync(h.bridgePortSet('port0-p', { hairpin: true }), { instanceOf: NetlinkError });
});


test('linkAdd with port settings and address generation: applied in the create\'s datagram; a setting the kernel refuses removes the new link', async (t) => {
  const { ns, h, ipLink } = setup(t);
  await h.linkAdd({ kind: 'bridge', name: 'brs' });
  const before = h.datagramsSent;
  await h.linkAdd({ kind: 'veth', name: 'ps0', peer: { name: 'ps0-p' }, master: 'brs', bridgePort: { hairpin: true, learning: false }, addrGenMode: 'none' });
  // The master by name costs one lookup; the create and its settings share the next datagram.
  t.is(h.datagramsSent - before, 2);
  t.like(ns.json<Array<{ hairpin: boolean; learning: boolean }>>('bridge', '-d', 'link', 'show', 'dev', 'ps0')[0], { hairpin: true, learning: false });
  t.regex(ns.run('ip', '-d', 'link', 'show', 'dev', 'ps0'), /addrgenmode none/);
  t.is(ipLink('ps0').master, 'brs');
  // Stable-privacy needs a secret this namespace lacks: the kernel makes the link, then refuses the mode.
  await t.throwsAsync(h.linkAdd({ kind: 'veth', name: 'ps1', peer: { name: 'ps1-p' }, master: 'brs', addrGenMode: 'stable-privacy' }), { instanceOf: NetlinkError, message: /EINVAL/ });
  t.false(ns.run('ip', 'link').includes('ps1'));
  await t.throwsAsync(h.linkAdd({ kind: 'veth', name: 'ps2', peer: { name: 'ps2-p' }, bridgePort: { hairpin: true } }), { instanceOf: InvalidArgumentError });
  t.false(ns.run('ip', 'link').includes('ps2'));
});
test('move a link into another namespace by fd', async (t) => {
  const { ns, h } = setup(t);
  const other = createTestNamespace(t);
  await h.linkAdd({ kind: 'veth', name: 'mover', peer: { name: 'stayer' } });
  await h.linkSetNetns('mover', other.path);
  t.false(ns.run('ip', 'link').includes('mover'));
  t.true(other.run('ip', 'link').includes('mover'));
  const there = NetlinkHandle.open({ netns: other.path });
  t.teardown(() => there.close());
  t.is((await there.linkGet('mover')).kind, 'veth');
});

test('list matches iproute2 and delete removes both veth ends', async (t) => {
  const { ns, h } = setup(t);
  await h.linkAdd({ kind: 'veth', name: 'l1', peer: { name: 'l2' } });
  await h.linkAdd({ kind: 'bridge', name: 'l3' });
  const ours = (await h.linkList()).map((l: Link) => [l.index, l.name]);
  const theirs = ns.json<IpLink[]>('ip', 'link', 'show').map((l) => [l.ifindex, l.ifname]);
  t.deepEqual(ours, theirs);
  await h.linkDel('l1');
  await h.linkDel((await h.linkGet('l3')).index);
  t.deepEqual(
    ns.json<IpLink[]>('ip', 'link', 'show').map((l) => l.ifname),
    ['lo'],
  );
});

test('errors are typed and nothing is left half-made', async (t) => {
  const { ns, h } = setup(t);
  const other = createTestNamespace(t);
  await h.linkAdd({ kind: 'bridge', name: 'dup' });
  const duplicate = await t.throwsAsync(h.linkAdd({ kind: 'bridge', name: 'dup' }), { instanceOf: NetlinkError });
  t.is(duplicate?.code, 'EEXIST');
  t.regex(duplicate?.message ?? '', /^EEXIST creating link "dup": /);

  // The peer's name is taken in the target namespace: the whole pair fails, no host end remains.
  other.run('ip', 'link', 'add', 'taken', 'type', 'bridge');
  const pair = await t.throwsAsync(h.linkAdd({ kind: 'veth', name: 'host-end', peer: { name: 'taken', netns: other.path } }), { instanceOf: NetlinkError });
  t.is(pair?.code, 'EEXIST');
  t.false(ns.run('ip', 'link').includes('host-end'));

  await t.throwsAsync(h.linkAdd({ kind: 'veth', name: 'x', peer: { name: 'y', netns: '/run/netns/does-not-exist' } }), { instanceOf: InvalidArgumentError, message: /cannot be opened/ });
  await t.throwsAsync(h.linkAdd({ kind: 'bridge', name: 'name-longer-than-15' }), { instanceOf: InvalidArgumentError, message: /15 bytes/ });
  await t.throwsAsync(h.linkGet('missing'), { instanceOf: LinkNotFoundError, message: 'link "missing" not found' });
  const missing = await t.throwsAsync(h.linkDel('missing'), { instanceOf: NetlinkError });
  t.is(missing?.code, 'ENODEV');
  await t.throwsAsync(h.linkAdd({ kind: 'macvlan', name: 'mv', parent: 'missing' }), { instanceOf: LinkNotFoundError });
  t.throws(() => NetlinkHandle.open({ netns: '/run/netns/does-not-exist' }), { instanceOf: InvalidArgumentError, message: /does not exist/ });
  t.deepEqual(
    ns.json<IpLink[]>('ip', 'link', 'show').map((l) => l.ifname),
    ['lo', 'dup'],
  );
});

test('a closed handle refuses further requests', async (t) => {
  const { h } = setup(t);
  h.close();
  await t.throwsAsync(h.linkList(), { message: /closed/ });
});

test('an idle handle does not keep the process alive, also after an offloaded delete', async (t) => {
  const ns = createTestNamespace(t);
  const module = require.resolve('../../src/netlink');
  const script = `const { NetlinkHandle } = require(${JSON.stringify(module)});
    const h = NetlinkHandle.open({ netns: ${JSON.stringify(ns.path)} });
    h.linkAdd({ kind: 'bridge', name: 'b0' }).then(() => h.linkDel('b0')).then(() => console.log('idle'));`;
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  t.is(child.stdout.trim(), 'idle');
  t.is(child.signal, null, 'the process had to be killed: the handle kept it alive');
  t.is(child.status, 0);
});

test('closing a handle while a delete is in the thread pool rejects it cleanly', async (t) => {
  const ns = createTestNamespace(t);
  const h = NetlinkHandle.open({ netns: ns.path });
  const { index } = await h.linkAdd({ kind: 'veth', name: 'closing', peer: { name: 'closing-p' } });
  const deletion = h.linkDel(index);
  // Runs right after the request went to the thread pool, before any reply can be read.
  queueMicrotask(() => h.close());
  // The worker may finish and its echo be read before the close runs (a busy machine can pause
  // the main thread that long): then the delete did complete and resolving is right.
  const outcome = await deletion.then(() => 'resolved', (error: Error) => error.message);
  t.regex(outcome, /^(resolved|netlink socket closed while deleting link #\d+)$/);
  // The kernel had the request: the link goes all the same.
  await until('the link to go', () => !ns.run('ip', 'link').includes('closing'));
});

test('linkAdd resolves with the link as the kernel made it (the host end of a same-namespace veth)', async (t) => {
  const { h, ipLink } = setup(t);
  const made = await h.linkAdd({ kind: 'veth', name: 'made', mac: '02:42:00:00:00:0b', mtu: 1400, up: true, peer: { name: 'made-peer' } });
  const ip = ipLink('made');
  t.like(made, { index: ip.ifindex, name: 'made', kind: 'veth', mac: '02:42:00:00:00:0b', mtu: 1400, up: true, parentIndex: ipLink('made-peer').ifindex });
  // The echo is a snapshot taken as the link was made; carrier state (operstate, IFF_RUNNING)
  // moves on after it, through linkwatch.
  const { operstate: _echoed, flags: _echoedFlags, ...stable } = made;
  const { operstate: _now, flags: _nowFlags, ...current } = await h.linkGet('made');
  t.deepEqual(stable, current);
});

test('linkDel resolves once the link is gone: both ends vanish and the names are free at once', async (t) => {
  const { ns, h } = setup(t);
  const other = createTestNamespace(t);
  const settled: number[] = [];
  for (let round = 0; round < 20; round++) {
    const link = await h.linkAdd({ kind: 'veth', name: 'churn', peer: { name: 'churn-p', netns: other.path } });
    await h.addrAdd(link.index, { address: '10.70.0.1/24' });
    await h.linkSetUp(link.index);
    const started = process.hrtime.bigint();
    await h.linkDel(round % 2 ? link.index : 'churn');
    settled.push(Number(process.hrtime.bigint() - started) / 1e6);
    // Checked right away, no polling: the kernel has unregistered both ends.
    t.false(ns.run('ip', 'link').includes('churn'), `round ${round}: host end still listed`);
    t.false(other.run('ip', 'link').includes('churn-p'), `round ${round}: peer still listed`);
    t.deepEqual(ns.json('ip', 'route', 'show', '10.70.0.0/24'), [], `round ${round}: its route is still there`);
  }
  // Informative only: other test files churning namespaces hold the RTNL lock at times.
  t.log(`linkDel settled after ${settled.sort((a, b) => a - b)[10]!.toFixed(2)} ms (median of 20)`);
});

test('deleting a link that is already gone is a typed ENODEV, by name and by index', async (t) => {
  const { h } = setup(t);
  const { index } = await h.linkAdd({ kind: 'bridge', name: 'once' });
  await h.linkDel(index);
  const byIndex = await t.throwsAsync(h.linkDel(index), { instanceOf: NetlinkError });
  t.is(byIndex?.code, 'ENODEV');
  t.regex(byIndex?.message ?? '', new RegExp(`^ENODEV deleting link #${index}: `));
  const byName = await t.throwsAsync(h.linkDel('once'), { instanceOf: NetlinkError });
  t.is(byName?.code, 'ENODEV');
});

test('moving a link to a namespace that does not exist is refused before the kernel', async (t) => {
  const { ns, h } = setup(t);
  await h.linkAdd({ kind: 'bridge', name: 'stay' });
  await t.throwsAsync(h.linkSetNetns('stay', '/run/netns/nctl-does-not-exist'), { instanceOf: InvalidArgumentError, message: /network namespace "\/run\/netns\/nctl-does-not-exist": cannot be opened \(ENOENT\)/ });
  t.true(ns.run('ip', 'link').includes('stay'));
});

test('addrgenmode none set while down keeps IPv6 silent: no link-local address once up', async (t) => {
  const { ns, h } = setup(t);
  await h.linkAdd({ kind: 'veth', name: 'quiet', peer: { name: 'chatty' } });
  await Promise.all([h.linkSetAddrGenMode('quiet', 'none'), h.linkSetUp('quiet'), h.linkSetUp('chatty')]);
  t.regex(ns.run('ip', '-d', 'link', 'show', 'quiet'), /addrgenmode none/);
  const inet6 = (name: string): unknown[] => ns.json<Array<{ addr_info: unknown[] }>>('ip', '-6', '-j', 'addr', 'show', 'dev', name)[0]?.addr_info ?? [];
  t.deepEqual(inet6('quiet'), []);
  t.is(inet6('chatty').length, 1, 'the other end, left alone, has its link-local address');
});
