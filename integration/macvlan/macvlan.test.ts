// The macvlan driver end to end: test hosts joined by an underlay bridge (a namespace of its own),
// each running a daemon with a macvlan network on its underlay interface; containers on both
// hosts and a plain address on the underlay reach each other. Also private mode, networks with
// no parent, 802.1q sub-interfaces (or the clear error where the kernel lacks 802.1q), refusals
// that leave nothing behind, and a restart that finds a parent gone.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { netctlCli, type Runner } from '../helpers/cli';
import { daemonWithCli, inspect, ok, pings } from '../helpers/containers';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { RemoteError, startController } from '../helpers/controller-host';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import type { EndpointRecord, SandboxRecord } from '../../src/controller';

type T = Parameters<typeof startDaemon>[0] & Parameters<typeof createTestNamespace>[0];

interface TestHost {
  ns: TestNamespace;
  daemon: TestDaemon;
  netctl: Runner;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  address?: string;
  linkinfo?: { info_kind: string; info_data?: { mode?: string } };
}

/** The underlay: a namespace with a bridge `ul` holding 10.71.0.254/24, a plain host on the segment. */
function underlay(t: T): TestNamespace {
  const ns = createTestNamespace(t, 'nctl-mvu');
  ns.run('ip', 'link', 'add', 'ul', 'type', 'bridge');
  ns.run('ip', 'addr', 'add', '10.71.0.254/24', 'dev', 'ul');
  ns.run('ip', 'link', 'set', 'ul', 'up');
  return ns;
}

/** A test host with `up0` (its end of a veth into the underlay bridge, up) and a daemon of its own. */
async function host(t: T, segment: TestNamespace | undefined): Promise<TestHost> {
  const ns = createTestNamespace(t, 'nctl-mvh');
  if (segment) {
    const port = `p${ns.name.slice(-8)}`;
    ns.run('ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', port, 'netns', segment.path);
    segment.run('ip', 'link', 'set', port, 'master', 'ul', 'up');
  } else {
    ns.run('ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p');
    ns.run('ip', 'link', 'set', 'up0p', 'up');
  }
  ns.run('ip', 'link', 'set', 'up0', 'up');
  return { ns, ...(await daemonWithCli(t, { netns: ns.path, args: ['--bridge', 'none'] })) };
}

/** The links of a namespace given by path (a test host, or a container's sandbox). */
const linksIn = (netnsPath: string): IpLink[] => JSON.parse(execFileSync('nsenter', [`--net=${netnsPath}`, 'ip', '-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as IpLink[];
const linkNames = (ns: TestNamespace): string[] => linksIn(ns.path).map((l) => l.ifname).sort();

/** Whether this kernel can make a link of `kind` (a throwaway namespace asks it). */
function kernelHas(kind: 'vlan'): boolean {
  const probe = `nctl-mvk-${process.pid}`;
  execFileSync('ip', ['netns', 'add', probe]);
  try {
    execFileSync('ip', ['-n', probe, 'link', 'add', 'x', 'type', 'veth', 'peer', 'name', 'y']);
    execFileSync('ip', ['-n', probe, 'link', 'add', 'link', 'x', 'name', 'x.5', 'type', kind, 'id', '5'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('ip', ['netns', 'del', probe]);
  }
}
const HAS_VLAN = kernelHas('vlan');

test('containers on two hosts and a plain address on the underlay reach each other; each has its own MAC; network rm leaves no link', async (t) => {
  const segment = underlay(t);
  const [h1, h2] = [await host(t, segment), await host(t, segment)];
  const before = linkNames(h1.ns);
  for (const [h, range] of [[h1, '10.71.0.0/28'], [h2, '10.71.0.16/28']] as const) {
    await ok(h.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.71.0.0/24', '--gateway', '10.71.0.254', '--ip-range', range, '-o', 'parent=up0', 'lan']);
  }
  await ok(h1.netctl, ['run', '-d', '--name', 'a1', '--network', 'lan', 'sleep', '300']);
  await ok(h1.netctl, ['run', '-d', '--name', 'a2', '--network', 'lan', 'sleep', '300']);
  await ok(h2.netctl, ['run', '-d', '--name', 'b1', '--network', 'lan', '--ip', '10.71.0.21', 'sleep', '300']);

  const a1 = await inspect(h1.netctl, 'a1');
  const a2 = await inspect(h1.netctl, 'a2');
  t.like(a1.NetworkSettings.Networks['lan'], { IPAddress: '10.71.0.1', Gateway: '10.71.0.254', MacAddress: '02:42:0a:47:00:01' });
  const eth0 = linksIn(a1.NetworkSettings.SandboxKey).find((l) => l.ifname === 'eth0');
  t.like(eth0, { ifindex: 2, address: '02:42:0a:47:00:01', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } } });
  t.deepEqual(linkNames(h1.ns), before, 'the endpoint lives only in the sandbox: nothing in the host');

  t.true(await pings(h1.netctl, 'a1', '10.71.0.21'), 'a container on the other host');
  t.true(await pings(h2.netctl, 'b1', a2.NetworkSettings.Networks['lan']!.IPAddress), 'and back');
  t.true(await pings(h1.netctl, 'a1', a2.NetworkSettings.Networks['lan']!.IPAddress), 'a container on the same host (bridge mode)');
  t.true(await pings(h1.netctl, 'a1', '10.71.0.254'), 'a plain address on the underlay');
  t.regex(await ok(h1.netctl, ['exec', 'a1', 'ip', 'route']), /^default via 10\.71\.0\.254 dev eth0/m);
  t.regex(await ok(h1.netctl, ['exec', 'a1', 'nslookup', 'a2']), /Address: 10\.71\.0\.2/, 'names are served as on any network');
  const fromUnderlay = execFileSync('nsenter', [`--net=${segment.path}`, 'ip', '-j', 'neigh', 'show', '10.71.0.1'], { encoding: 'utf8' });
  t.regex(fromUnderlay, /02:42:0a:47:00:01/, 'the underlay learnt the container by its own MAC');

  t.is((await h1.netctl(['run', '--rm', '--network', 'lan', '-p', '8080:80', 'true'])).code, 125, 'ports cannot be published on macvlan');
  await ok(h1.netctl, ['network', 'disconnect', 'lan', 'a2']);
  t.deepEqual(linksIn(a2.NetworkSettings.SandboxKey).map((l) => l.ifname), ['lo'], 'disconnect takes the interface out of the sandbox');
  await ok(h1.netctl, ['rm', '-f', 'a1', 'a2']);
  await ok(h1.netctl, ['network', 'rm', 'lan']);
  t.deepEqual(linkNames(h1.ns), before, 'the admin’s parent stays; nothing else is left');
});

test('a macvlan interface cannot reach its own parent host; private mode blocks container-to-container on one host', async (t) => {
  const segment = underlay(t);
  const h1 = await host(t, segment);
  h1.ns.run('ip', 'addr', 'add', '10.71.0.100/24', 'dev', 'up0');
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.71.0.0/24', '--gateway', '10.71.0.254', '-o', 'parent=up0', '-o', 'macvlan_mode=private', 'lan']);
  await ok(h1.netctl, ['run', '-d', '--name', 'p1', '--network', 'lan', '--ip', '10.71.0.11', 'sleep', '300']);
  await ok(h1.netctl, ['run', '-d', '--name', 'p2', '--network', 'lan', '--ip', '10.71.0.12', 'sleep', '300']);
  const p1 = await inspect(h1.netctl, 'p1');
  t.like(linksIn(p1.NetworkSettings.SandboxKey).find((l) => l.ifname === 'eth0'), { linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
  t.true(await pings(h1.netctl, 'p1', '10.71.0.254'), 'the underlay is reachable');
  t.false(await pings(h1.netctl, 'p1', '10.71.0.12', 1), 'private: not the neighbour on the same parent');
  t.false(await pings(h1.netctl, 'p1', '10.71.0.100', 1), 'the parent host itself is not reachable (the kernel never hands frames between a parent and its macvlans)');
});

test('no parent: an internal segment of netctl’s own, removed with the network', async (t) => {
  const h1 = await host(t, undefined);
  const before = linkNames(h1.ns);
  const id = (await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.73.0.0/24', 'island'])).trim();
  const own = linksIn(h1.ns.path).find((l) => l.ifname === `dm-${id.slice(0, 12)}`);
  t.truthy(own, 'a parent of its own, named as Docker names it');
  t.true(['dummy', 'veth'].includes(own!.linkinfo?.info_kind ?? ''), 'a dummy link, or a veth where the kernel has no dummy driver');
  await ok(h1.netctl, ['run', '-d', '--name', 'i1', '--network', 'island', 'sleep', '300']);
  await ok(h1.netctl, ['run', '-d', '--name', 'i2', '--network', 'island', 'sleep', '300']);
  t.true(await pings(h1.netctl, 'i1', '10.73.0.3'));
  t.notRegex(await ok(h1.netctl, ['exec', 'i1', 'ip', 'route']), /default/, 'no way out, so no default route');
  await ok(h1.netctl, ['rm', '-f', 'i1', 'i2']);
  await ok(h1.netctl, ['network', 'rm', 'island']);
  t.deepEqual(linkNames(h1.ns), before);
});

(HAS_VLAN ? test : test.skip)('802.1q parent: the sub-interface is made, reaches only peers on the same VLAN, and goes with the network' + (HAS_VLAN ? '' : ' (skipped: this kernel has no 802.1q VLAN support)'), async (t) => {
  const segment = underlay(t);
  const [h1, h2, h3] = [await host(t, segment), await host(t, segment), await host(t, segment)];
  for (const [h, vid, ip] of [[h1, 10, '10.74.0.11'], [h2, 10, '10.74.0.21'], [h3, 20, '10.74.0.31']] as const) {
    await ok(h.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.74.0.0/24', '-o', `parent=up0.${vid}`, 'v']);
    await ok(h.netctl, ['run', '-d', '--name', 'c', '--network', 'v', '--ip', ip, 'sleep', '300']);
  }
  t.true(linkNames(h1.ns).includes('up0.10'));
  t.true(await pings(h1.netctl, 'c', '10.74.0.21'), 'same VLAN on another host');
  t.false(await pings(h1.netctl, 'c', '10.74.0.31', 1), 'another VLAN');
  await ok(h1.netctl, ['rm', '-f', 'c']);
  await ok(h1.netctl, ['network', 'rm', 'v']);
  t.false(linkNames(h1.ns).includes('up0.10'), 'netctl made it, so netctl removes it');
  // Two creates at once on one missing sub-interface: one makes it, the other adopts it; it goes with the last network.
  const both = await Promise.all(['w1', 'w2'].map((name, i) => h1.netctl(['network', 'create', '-d', 'macvlan', '--subnet', `10.77.${i}.0/24`, '-o', 'parent=up0.30', name])));
  t.deepEqual(both.map((run) => run.code), [0, 0], both.map((run) => run.stderr).join(''));
  await ok(h1.netctl, ['network', 'rm', 'w1']);
  t.true(linkNames(h1.ns).includes('up0.30'), 'still carrying w2');
  await ok(h1.netctl, ['network', 'rm', 'w2']);
  t.false(linkNames(h1.ns).includes('up0.30'));
});

(HAS_VLAN ? test.skip : test)('without 802.1q in the kernel, a VLAN parent is refused with the missing feature named, and nothing is made', async (t) => {
  const h1 = await host(t, undefined);
  const before = linkNames(h1.ns);
  const run = await h1.netctl(['network', 'create', '-d', 'macvlan', '--subnet', '10.74.0.0/24', '-o', 'parent=up0.10', 'v']);
  t.is(run.code, 1);
  t.regex(run.stderr, /cannot create VLAN sub-interface "up0\.10": the kernel has no 802\.1q VLAN support/);
  t.deepEqual(linkNames(h1.ns), before);
  t.notRegex(await ok(h1.netctl, ['network', 'ls']), /\bv\b/);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.74.0.0/24', '-o', 'parent=up0', 'v']);
});

test('bad input is refused with the reason, and nothing is made', async (t) => {
  const h1 = await host(t, undefined);
  h1.ns.run('ip', 'link', 'add', 'down0', 'type', 'veth', 'peer', 'name', 'down0p');
  h1.ns.run('ip', 'link', 'add', 'br9', 'type', 'bridge');
  h1.ns.run('ip', 'link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'port0p');
  h1.ns.run('ip', 'link', 'set', 'port0', 'master', 'br9', 'up');
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--ipv6', '--subnet', '10.75.0.0/24', '--subnet', 'fd75::/64', '-o', 'parent=up0', 'first']);
  // Another name of up0 (the kernel finds a link by its altnames too): the same parent.
  h1.ns.run('ip', 'link', 'property', 'add', 'dev', 'up0', 'altname', 'upalt');
  const before = linkNames(h1.ns);
  const networksBefore = await ok(h1.netctl, ['network', 'ls', '-q']);
  const cases: Array<[string[], RegExp]> = [
    [['-o', 'parent=nope0'], /parent interface "nope0" not found/],
    [['-o', 'parent=down0'], /parent interface "down0" is down: bring it up/],
    [['-o', 'parent=port0'], /parent interface "port0" is enslaved to "br9": .* use "br9" as the parent instead/],
    [['-o', 'parent=lo'], /parent interface "lo" is not an Ethernet interface/],
    [['-o', 'parent=up0.0'], /invalid VLAN ID 0 in parent "up0\.0": an 802\.1q VLAN ID is from 1 to 4094/],
    [['-o', 'parent=up0.4095'], /invalid VLAN ID 4095/],
    [['-o', 'parent=up0', '-o', 'macvlan_mode=loud'], /invalid macvlan_mode "loud": use bridge, private, vepa or passthru/],
    [['-o', 'parent=up0', '-o', 'colour=red'], /unknown option "colour" for driver macvlan/],
    [['-o', 'parent=up0', '-o', 'macvlan_mode=passthru'], /parent "up0" already carries macvlan network "first": a passthru network needs its parent for itself/],
    [['-o', 'parent=up0', '--subnet', '10.75.0.128/25'], /Pool overlaps with other one on this address space: subnet 10\.75\.0\.128\/25 overlaps 10\.75\.0\.0\/24 of network first/],
    [['-o', 'parent=up0', '--subnet', '10.75.0.0/24'], /Pool overlaps with other one on this address space: subnet 10\.75\.0\.0\/24 is network first's/],
    [['-o', 'parent=up0', '--ipv6', '--subnet', '10.74.0.0/24', '--subnet', 'fd75::/64'], /Pool overlaps with other one on this address space: subnet fd75::\/64 is network first's/],
    [['-o', 'parent=upalt', '--subnet', '10.75.0.0/24'], /subnet 10\.75\.0\.0\/24 is network first's/],
    // On another parent too: the core gives no two networks one subnet (as Docker).
    [['-o', 'parent=down0', '--subnet', '10.75.0.0/24'], /subnet 10\.75\.0\.0\/24 is network first's/],
    [['-o', 'parent=upalt', '-o', 'macvlan_mode=passthru'], /parent "up0" already carries macvlan network "first": a passthru network needs its parent for itself/],
  ];
  for (const [extra, message] of cases) {
    const args = ['network', 'create', '-d', 'macvlan', ...(extra.includes('--subnet') ? [] : ['--subnet', '10.76.0.0/24']), ...extra, 'second'];
    const run = await h1.netctl(args);
    t.is(run.code, 1, extra.join(' '));
    t.regex(run.stderr, message, extra.join(' '));
  }
  t.deepEqual(linkNames(h1.ns), before);
  t.is(await ok(h1.netctl, ['network', 'ls', '-q']), networksBefore);
  // The refused passthru network's subnet was given back: it can be used now.
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.76.0.0/24', '-o', 'parent=up0', 'second']);
  // And the refused clashes took no share of first's pools: with first gone, parts of them are free.
  await ok(h1.netctl, ['network', 'rm', 'first']);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--ipv6', '--subnet', '10.75.0.0/25', '--subnet', 'fd75::/80', '-o', 'parent=up0', 'third']);
  // A name that reads as IFACE.VID with a VID out of range is refused above only because no
  // interface has it: an admin's interface of that name is a parent like any other.
  h1.ns.run('ip', 'link', 'add', 'up0.0', 'type', 'veth', 'peer', 'name', 'up0.0p');
  h1.ns.run('ip', 'link', 'set', 'up0.0p', 'up');
  h1.ns.run('ip', 'link', 'set', 'up0.0', 'up');
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.73.0.0/24', '-o', 'parent=up0.0', 'dotted']);
  await ok(h1.netctl, ['run', '-d', '--name', 'dc', '--network', 'dotted', 'sleep', '300']);
  t.like(linksIn((await inspect(h1.netctl, 'dc')).NetworkSettings.SandboxKey).find((l) => l.ifname === 'eth0'), { linkinfo: { info_kind: 'macvlan' } });
});

test('passthru: the network holds one container, a second is refused clearly', async (t) => {
  const h1 = await host(t, undefined);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.77.0.0/24', '-o', 'parent=up0', '-o', 'macvlan_mode=passthru', 'solo']);
  await ok(h1.netctl, ['run', '-d', '--name', 's1', '--network', 'solo', 'sleep', '300']);
  const second = await h1.netctl(['run', '-d', '--name', 's2', '--network', 'solo', 'sleep', '300']);
  t.is(second.code, 125);
  t.regex(second.stderr, /macvlan network "solo" is in passthru mode, which gives its parent "up0" to one interface, and that one is taken/);
  // s2 stays created (as with dockerd), holding nothing: only s1 runs.
  t.is((await ok(h1.netctl, ['ps', '-q'])).trim().split('\n').length, 1);
  // The kernel gives a passthru interface its parent's MAC: inspect says so too.
  const parentMac = linksIn(h1.ns.path).find((l) => l.ifname === 'up0')!.address!;
  const s1 = await inspect(h1.netctl, 's1');
  t.is(linksIn(s1.NetworkSettings.SandboxKey).find((l) => l.ifname === 'eth0')?.address, parentMac);
  t.is(s1.NetworkSettings.Networks['solo']?.MacAddress, parentMac);
});

test('passthru through the library: a MAC asked for is refused (the interface takes its parent’s) and nothing is left', async (t) => {
  const ns = createTestNamespace(t, 'nctl-mvh');
  ns.run('ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p');
  ns.run('ip', 'link', 'set', 'up0p', 'up');
  ns.run('ip', 'link', 'set', 'up0', 'up');
  const parentMac = linksIn(ns.path).find((l) => l.ifname === 'up0')!.address!;
  const c = await startController(t, { netns: ns.path });
  await c.call('create', { name: 'solo', driver: 'macvlan', options: { parent: 'up0', macvlan_mode: 'passthru' }, ipam: { config: [{ subnet: '10.77.0.0/24' }] } });
  const sandbox = await c.call<SandboxRecord>('createSandbox', {});
  const error = await t.throwsAsync(c.call('connect', 'solo', sandbox.id, { mac: '02:42:00:00:00:99' }), { instanceOf: RemoteError });
  t.is(error?.name, 'InvalidParameterError');
  t.regex(error?.message ?? '', new RegExp(`network solo \\(driver macvlan\\) gives its interface the MAC address ${parentMac}, not the one asked for \\(02:42:00:00:00:99\\)`));
  t.deepEqual(linksIn(sandbox.key).map((l) => l.ifname), ['lo'], 'the interface was taken away again');
  // The address the refused connect had is free again.
  const endpoint = await c.call<EndpointRecord>('connect', 'solo', sandbox.id, { ipv4: '10.77.0.2' });
  t.is(endpoint.mac, parentMac);
});

test('daemon kill -9, own parent deleted meanwhile: the restart makes it again and joins the containers again', async (t) => {
  const ns = createTestNamespace(t, 'nctl-mvh');
  const first = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'] });
  let netctl = netctlCli(first.socketPath);
  const id = (await ok(netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.78.0.0/24', 'island'])).trim();
  await ok(netctl, ['run', '-d', '--name', 'r1', '--network', 'island', '--ip', '10.78.0.11', 'sleep', '300']);
  await ok(netctl, ['run', '-d', '--name', 'r2', '--network', 'island', '--ip', '10.78.0.12', 'sleep', '300']);
  t.teardown(async () => void (await netctl(['rm', '-f', 'r1', 'r2'])));
  t.true(await pings(netctl, 'r1', '10.78.0.12'));
  first.process.kill('SIGKILL');
  await first.stop();
  ns.run('ip', 'link', 'del', `dm-${id.slice(0, 12)}`);
  const second = await startDaemon(t, { netns: ns.path, root: first.root, runDir: first.runDir, args: ['--bridge', 'none'] });
  netctl = netctlCli(second.socketPath);
  t.true(linkNames(ns).includes(`dm-${id.slice(0, 12)}`), 'the parent is back');
  t.true(await pings(netctl, 'r1', '10.78.0.12'), 'and the containers are on it again');
  t.regex(second.logs(), /macvlan parent missing: recreated it/);
});

test('daemon kill -9, an admin’s parent deleted meanwhile: the daemon starts anyway and says why the container is off the network; disconnect and connect again work', async (t) => {
  const h1 = await host(t, undefined);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.80.0.0/24', '--gateway', '10.80.0.254', '-o', 'parent=up0', 'lan']);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.81.0.0/24', 'island']);
  await ok(h1.netctl, ['run', '-d', '--name', 'c', '--network', 'lan', 'sleep', '300']);
  await ok(h1.netctl, ['network', 'connect', 'island', 'c']);
  await ok(h1.netctl, ['run', '-d', '--name', 'd', '--network', 'island', 'sleep', '300']);
  h1.daemon.process.kill('SIGKILL');
  await h1.daemon.stop();
  h1.ns.run('ip', 'link', 'del', 'up0');
  const second = await startDaemon(t, { netns: h1.ns.path, root: h1.daemon.root, runDir: h1.daemon.runDir, args: ['--bridge', 'none'] });
  const netctl = netctlCli(second.socketPath);
  t.teardown(async () => void (await netctl(['rm', '-f', 'c', 'd'])));
  t.regex(second.logs(), /endpoint could not join again \(parent interface \\?"up0\\?" of macvlan network \\?"lan\\?" no longer exists/);
  const sandbox = (await inspect(netctl, 'c')).NetworkSettings.SandboxKey;
  t.deepEqual(linksIn(sandbox).map((l) => l.ifname).sort(), ['eth1', 'lo'], 'no half-made interface is left for lan');
  t.true(await pings(netctl, 'c', (await inspect(netctl, 'd')).NetworkSettings.Networks['island']!.IPAddress), 'its other network works');
  await ok(netctl, ['network', 'disconnect', 'lan', 'c']);
  h1.ns.run('ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p');
  h1.ns.run('ip', 'link', 'set', 'up0p', 'up');
  h1.ns.run('ip', 'link', 'set', 'up0', 'up');
  h1.ns.run('ip', 'addr', 'add', '10.80.0.254/24', 'dev', 'up0p');
  await ok(netctl, ['network', 'connect', 'lan', 'c']);
  t.true(await pings(netctl, 'c', '10.80.0.254'), 'connected again, on the parent made again');
});

test('eth0 is made at index 2 when that is free; where something holds the index, the kernel picks one and the join still works', async (t) => {
  const h1 = await host(t, undefined);
  h1.ns.run('ip', 'addr', 'add', '10.78.0.254/24', 'dev', 'up0p');
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.78.0.0/24', '--gateway', '10.78.0.254', '-o', 'parent=up0', 'lan']);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.81.0.0/24', 'island']);
  await ok(h1.netctl, ['run', '-d', '--name', 'c', '--network', 'island', 'sleep', '300']);
  const sandbox = (await inspect(h1.netctl, 'c')).NetworkSettings.SandboxKey;
  t.is(linksIn(sandbox).find((l) => l.ifname === 'eth0')?.ifindex, 2);
  // eth1 would be made at index 3: something holds it.
  execFileSync('nsenter', [`--net=${sandbox}`, 'ip', 'link', 'add', 'taken', 'index', '3', 'type', 'veth', 'peer', 'name', 'taken2', 'index', '4']);
  await ok(h1.netctl, ['network', 'connect', 'lan', 'c']);
  const eth1 = linksIn(sandbox).find((l) => l.ifname === 'eth1');
  t.like(eth1, { linkinfo: { info_kind: 'macvlan' } });
  t.false([3, 4].includes(eth1?.ifindex ?? 3), 'eth1 took an index of the kernel’s choosing');
  t.regex(await ok(h1.netctl, ['exec', 'c', 'ip', 'route']), /^default via 10\.78\.0\.254 dev eth1/m, 'addresses and routes went to the right interface');
  t.true(await pings(h1.netctl, 'c', '10.78.0.254'));
});

test('a parent deleted under a running daemon: joins say so clearly; made again (a new index), joins work again', async (t) => {
  const h1 = await host(t, undefined);
  await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--subnet', '10.79.0.0/24', '-o', 'parent=up0', 'lan']);
  await ok(h1.netctl, ['run', '-d', '--name', 'before', '--network', 'lan', 'sleep', '300']);
  h1.ns.run('ip', 'link', 'del', 'up0');
  const refused = await h1.netctl(['run', '-d', '--name', 'orphan', '--network', 'lan', 'sleep', '300']);
  t.is(refused.code, 125);
  t.regex(refused.stderr, /parent interface "up0" of macvlan network "lan" no longer exists: create it again, or remove the network/);
  h1.ns.run('ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p');
  h1.ns.run('ip', 'link', 'set', 'up0p', 'up');
  h1.ns.run('ip', 'link', 'set', 'up0', 'up');
  h1.ns.run('ip', 'addr', 'add', '10.79.0.254/24', 'dev', 'up0p');
  await ok(h1.netctl, ['run', '-d', '--name', 'after', '--network', 'lan', '--ip', '10.79.0.20', 'sleep', '300']);
  t.like(linksIn((await inspect(h1.netctl, 'after')).NetworkSettings.SandboxKey).find((l) => l.ifname === 'eth0'), { linkinfo: { info_kind: 'macvlan' } });
  t.true(await pings(h1.netctl, 'after', '10.79.0.254'), 'on the new parent: reaches the other end of it');
});

test('dual stack: containers on two hosts reach each other over IPv6 too; --internal keeps to a segment of its own even with a parent', async (t) => {
  const segment = underlay(t);
  const [h1, h2] = [await host(t, segment), await host(t, segment)];
  for (const [h, range] of [[h1, '10.71.0.0/28'], [h2, '10.71.0.16/28']] as const) {
    await ok(h.netctl, ['network', 'create', '-d', 'macvlan', '--ipv6', '--subnet', '10.71.0.0/24', '--gateway', '10.71.0.254', '--ip-range', range, '--subnet', 'fd71::/64', '-o', 'parent=up0', 'lan']);
  }
  await ok(h1.netctl, ['run', '-d', '--name', 'a', '--network', 'lan', '--ip6', 'fd71::a', 'sleep', '300']);
  await ok(h2.netctl, ['run', '-d', '--name', 'b', '--network', 'lan', '--ip6', 'fd71::b', 'sleep', '300']);
  t.regex(await ok(h1.netctl, ['exec', 'a', 'ip', '-6', 'addr', 'show', 'eth0']), /inet6 fd71::a\/64/);
  t.true(await pings(h1.netctl, 'a', 'fd71::b'), 'IPv6 across hosts');
  t.true(await pings(h2.netctl, 'b', '10.71.0.1'), 'and IPv4');

  const id = (await ok(h1.netctl, ['network', 'create', '-d', 'macvlan', '--internal', '--subnet', '10.72.9.0/24', '-o', 'parent=up0', 'inner'])).trim();
  await ok(h1.netctl, ['run', '-d', '--name', 'i', '--network', 'inner', 'sleep', '300']);
  t.like(linksIn((await inspect(h1.netctl, 'i')).NetworkSettings.SandboxKey).find((l) => l.ifname === 'eth0'), { linkinfo: { info_kind: 'macvlan' } });
  t.true(linkNames(h1.ns).includes(`dm-${id.slice(0, 12)}`), '--internal: the parent is a segment of its own, as Docker does');
  t.notRegex(await ok(h1.netctl, ['exec', 'i', 'ip', 'route']), /default/);
});
