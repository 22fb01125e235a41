// Addresses, routes, neighbours and FDB entries against the kernel, checked with `ip -j` and
// `bridge -j` as oracles.
import test from 'ava';
import { NetlinkError, NetlinkHandle, InvalidArgumentError } from '../../src/netlink';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

async function setup(t: Parameters<typeof createTestNamespace>[0]): Promise<{ ns: TestNamespace; h: NetlinkHandle }> {
  const ns = createTestNamespace(t);
  const h = NetlinkHandle.open({ netns: ns.path });
  t.teardown(() => h.close());
  await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
  return { ns, h };
}

interface IpAddr {
  ifname: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number; broadcast?: string; scope: string; label?: string }>;
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  table?: string;
  protocol?: string;
  scope?: string;
}

test('address protocol (IFA_PROTO) marks who added an address; unmarked ones read 0; out of range is refused', async (t) => {
  const { h } = await setup(t);
  await h.addrAdd('br0', { address: '10.45.0.1/24', protocol: 110 });
  await h.addrAdd('br0', { address: 'fd45::1/64', noDad: true, protocol: 110 });
  await h.addrAdd('br0', { address: '10.45.1.1/24' });
  // iproute2 6.1 neither sets nor shows it: the kernel's own dump is the witness.
  const listed = (await h.addrList({ link: 'br0' })).filter((a) => a.scope === 'universe').map((a) => [a.address, a.protocol]);
  t.deepEqual(listed.sort(), [['10.45.0.1/24', 110], ['10.45.1.1/24', 0], ['fd45::1/64', 110]]);
  await t.throwsAsync(h.addrAdd('br0', { address: '10.45.2.1/24', protocol: 256 }), { instanceOf: InvalidArgumentError, message: /address protocol.*0 to 255/ });
});

test('addresses: IPv4 with broadcast and label, IPv6 without DAD; list agrees with ip; delete', async (t) => {
  const { ns, h } = await setup(t);
  await h.addrAdd('br0', { address: '10.44.0.1/24', label: 'br0:gw' });
  await h.addrAdd('br0', { address: '10.44.1.1/31' });
  await h.addrAdd('br0', { address: 'fd44::1/64', noDad: true });
  const ip = ns.json<IpAddr[]>('ip', 'addr', 'show', 'dev', 'br0')[0]!.addr_info.filter((a) => a.scope === 'global');
  t.deepEqual(
    ip.map((a) => [a.local, a.prefixlen, a.broadcast, a.label]),
    [
      ['10.44.0.1', 24, '10.44.0.255', 'br0:gw'],
      ['10.44.1.1', 31, undefined, 'br0'],
      ['fd44::1', 64, undefined, undefined],
    ],
  );
  // The kernel records the no-DAD request (a bridge without ports has no carrier yet, so
  // "usable at once" shows only on a live link; the flag is what we set).
  t.regex(ns.run('ip', 'addr', 'show', 'dev', 'br0'), /inet6 fd44::1\/64 scope global[^\n]*nodad/);
  const ours = (await h.addrList({ link: 'br0' })).filter((a) => a.scope === 'universe');
  t.deepEqual(
    ours.map((a) => a.address),
    ['10.44.0.1/24', '10.44.1.1/31', 'fd44::1/64'],
  );
  t.deepEqual(
    (await h.addrList({ family: 'ipv6', link: 'br0' })).map((a) => a.family),
    [10, 10],
  );
  await h.addrDel('br0', '10.44.0.1/24');
  await h.addrDel('br0', 'fd44::1/64');
  t.deepEqual(
    ns.json<IpAddr[]>('ip', 'addr', 'show', 'dev', 'br0')[0]!.addr_info.filter((a) => a.scope === 'global').map((a) => a.local),
    ['10.44.1.1'],
  );
  const duplicate = await t.throwsAsync(h.addrAdd('br0', { address: '10.44.1.1/31' }), { instanceOf: NetlinkError });
  t.is(duplicate?.code, 'EEXIST');
  await t.throwsAsync(h.addrAdd('br0', { address: '10.44.0.300/24' }), { instanceOf: InvalidArgumentError });
  const gone = await t.throwsAsync(h.addrDel('br0', '10.99.0.1/24'), { instanceOf: NetlinkError });
  t.is(gone?.code, 'EADDRNOTAVAIL');
});

test('routes: add, replace, delete and list for IPv4 and IPv6, in main and other tables', async (t) => {
  const { ns, h } = await setup(t);
  await h.addrAdd('br0', { address: '10.45.0.1/24' });
  await h.addrAdd('br0', { address: 'fd45::1/64', noDad: true });
  await h.routeAdd({ destination: '10.46.0.0/16', gateway: '10.45.0.254', metric: 20 });
  await h.routeAdd({ destination: 'default', gateway: '10.45.0.254' });
  await h.routeAdd({ destination: 'fd46::/48', gateway: 'fd45::fe', link: 'br0' });
  await h.routeAdd({ destination: '10.47.0.0/24', link: 'br0', table: 100 });
  const main = ns.json<IpRoute[]>('ip', 'route', 'show');
  t.like(
    main.find((r) => r.dst === '10.46.0.0/16'),
    { gateway: '10.45.0.254', dev: 'br0', metric: 20 },
  );
  t.like(
    main.find((r) => r.dst === 'default'),
    { gateway: '10.45.0.254' },
  );
  t.like(ns.json<IpRoute[]>('ip', '-6', 'route', 'show', 'fd46::/48')[0], { gateway: 'fd45::fe', dev: 'br0' });
  t.like(ns.json<IpRoute[]>('ip', 'route', 'show', 'table', '100')[0], { dst: '10.47.0.0/24', dev: 'br0', scope: 'link' });

  const ours = await h.routeList({ family: 'ipv4' });
  // iproute2 hides "proto boot", its own default; ours says it.
  t.like(
    ours.find((r) => r.destination === '10.46.0.0/16'),
    { protocol: 'boot', metric: 20, gateway: '10.45.0.254' },
  );
  t.deepEqual(
    ours.map((r) => r.destination).sort(),
    main.map((r) => (r.dst === 'default' ? 'default' : r.dst.includes('/') ? r.dst : `${r.dst}/32`)).sort(),
  );
  t.deepEqual(
    (await h.routeList({ table: 100 })).map((r) => [r.destination, r.scope]),
    [['10.47.0.0/24', 'link']],
  );

  await h.routeReplace({ destination: '10.46.0.0/16', gateway: '10.45.0.253', metric: 20 });
  t.is(ns.json<IpRoute[]>('ip', 'route', 'show', '10.46.0.0/16')[0]!.gateway, '10.45.0.253');
  const exists = await t.throwsAsync(h.routeAdd({ destination: '10.46.0.0/16', gateway: '10.45.0.1', metric: 20 }), { instanceOf: NetlinkError });
  t.is(exists?.code, 'EEXIST');
  await h.routeDel({ destination: '10.46.0.0/16', metric: 20 });
  await h.routeDel({ destination: 'fd46::/48' });
  await h.routeDel({ destination: '10.47.0.0/24', table: 100 });
  t.deepEqual(ns.json<IpRoute[]>('ip', 'route', 'show', '10.46.0.0/16'), []);
  t.deepEqual(ns.json<IpRoute[]>('ip', '-6', 'route', 'show', 'fd46::/48'), []);
  t.deepEqual(ns.json<IpRoute[]>('ip', 'route', 'show', 'table', '100'), []);
  const unreachable = await t.throwsAsync(h.routeAdd({ destination: '10.48.0.0/16', gateway: '192.0.2.1' }), { instanceOf: NetlinkError });
  t.is(unreachable?.code, 'ENETUNREACH');
  const missing = await t.throwsAsync(h.routeDel({ destination: '10.49.0.0/16' }), { instanceOf: NetlinkError });
  t.is(missing?.code, 'ESRCH');
});

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

test('neighbours: permanent entries and proxy entries, add, replace, delete, list', async (t) => {
  const { ns, h } = await setup(t);
  await h.neighAdd('br0', { ip: '10.50.0.7', mac: '02:42:0a:32:00:07' });
  await h.neighAdd('br0', { ip: 'fd50::7', mac: '02:42:0a:32:00:08' });
  await h.neighAdd('br0', { ip: '10.50.0.9', proxy: true });
  const entries = ns.json<IpNeigh[]>('ip', 'neigh', 'show', 'dev', 'br0');
  t.like(
    entries.find((n) => n.dst === '10.50.0.7'),
    { lladdr: '02:42:0a:32:00:07', state: ['PERMANENT'] },
  );
  t.like(
    entries.find((n) => n.dst === 'fd50::7'),
    { lladdr: '02:42:0a:32:00:08', state: ['PERMANENT'] },
  );
  t.deepEqual(
    ns.json<IpNeigh[]>('ip', 'neigh', 'show', 'proxy').map((n) => n.dst),
    ['10.50.0.9'],
  );
  const ours = await h.neighList({ link: 'br0' });
  t.like(
    ours.find((n) => n.ip === '10.50.0.7'),
    { mac: '02:42:0a:32:00:07', states: ['permanent'] },
  );
  t.deepEqual(
    (await h.neighList({ proxy: true })).map((n) => n.ip),
    ['10.50.0.9'],
  );
  const duplicate = await t.throwsAsync(h.neighAdd('br0', { ip: '10.50.0.7', mac: '02:42:0a:32:00:99' }), { instanceOf: NetlinkError });
  t.is(duplicate?.code, 'EEXIST');
  await h.neighReplace('br0', { ip: '10.50.0.7', mac: '02:42:0a:32:00:99' });
  t.is(ns.json<IpNeigh[]>('ip', 'neigh', 'show', '10.50.0.7', 'dev', 'br0')[0]!.lladdr, '02:42:0a:32:00:99');
  await h.neighDel('br0', { ip: '10.50.0.7' });
  await h.neighDel('br0', { ip: '10.50.0.9', proxy: true });
  t.deepEqual(ns.json<IpNeigh[]>('ip', 'neigh', 'show', '10.50.0.7', 'dev', 'br0'), []);
  t.deepEqual(ns.json<IpNeigh[]>('ip', 'neigh', 'show', 'proxy'), []);
});

interface BridgeFdb {
  mac: string;
  ifname: string;
  dst?: string;
  flags: string[];
  state?: string;
}

test('FDB: append VTEP entries on a VXLAN device (several per MAC), list and delete', async (t) => {
  const { ns, h } = await setup(t);
  await h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 256, learning: false });
  await h.fdbAppend('vx0', { mac: '02:42:0a:00:01:01', destination: '192.0.2.11' });
  // The all-zero MAC lists flood destinations; APPEND lets one MAC have several.
  await h.fdbAppend('vx0', { mac: '00:00:00:00:00:00', destination: '192.0.2.21' });
  await h.fdbAppend('vx0', { mac: '00:00:00:00:00:00', destination: '192.0.2.22' });
  const theirs = ns.json<BridgeFdb[]>('bridge', 'fdb', 'show', 'dev', 'vx0').filter((e) => e.dst);
  t.deepEqual(
    theirs.map((e) => [e.mac, e.dst, e.flags.includes('self'), e.state]).sort(),
    [
      ['00:00:00:00:00:00', '192.0.2.21', true, 'permanent'],
      ['00:00:00:00:00:00', '192.0.2.22', true, 'permanent'],
      ['02:42:0a:00:01:01', '192.0.2.11', true, 'permanent'],
    ],
  );
  const ours = (await h.fdbList({ link: 'vx0' })).filter((e) => e.destination);
  t.deepEqual(
    ours.map((e) => [e.mac, e.destination, e.self, e.permanent]).sort(),
    theirs.map((e) => [e.mac, e.dst, true, true]).sort(),
  );
  await h.fdbDel('vx0', { mac: '02:42:0a:00:01:01', destination: '192.0.2.11' });
  await h.fdbDel('vx0', { mac: '00:00:00:00:00:00', destination: '192.0.2.21' });
  t.deepEqual(
    ns.json<BridgeFdb[]>('bridge', 'fdb', 'show', 'dev', 'vx0').filter((e) => e.dst).map((e) => e.dst),
    ['192.0.2.22'],
  );
  await t.throwsAsync(h.fdbAppend('vx0', { mac: 'zz:42:0a:00:01:01', destination: '192.0.2.11' }), { instanceOf: InvalidArgumentError, message: /MAC/ });
});

test('FDB: replace points a unicast MAC at another VTEP; append leaves it where it was', async (t) => {
  const { ns, h } = await setup(t);
  await h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 257, learning: false });
  const vteps = (): string[] => ns.json<BridgeFdb[]>('bridge', 'fdb', 'show', 'dev', 'vx0').filter((e) => e.mac === '02:42:0a:00:02:01' && e.dst).map((e) => e.dst!);
  await h.fdbReplace('vx0', { mac: '02:42:0a:00:02:01', destination: '192.0.2.31' });
  t.deepEqual(vteps(), ['192.0.2.31']);
  // The kernel takes several destinations only for the all-zero MAC: a moved peer needs replace.
  await h.fdbAppend('vx0', { mac: '02:42:0a:00:02:01', destination: '192.0.2.32' });
  t.deepEqual(vteps(), ['192.0.2.31']);
  await h.fdbReplace('vx0', { mac: '02:42:0a:00:02:01', destination: '192.0.2.32' });
  t.deepEqual(vteps(), ['192.0.2.32']);
});

test('requests made in the same tick go in one datagram and still succeed or fail one by one', async (t) => {
  const { ns, h } = await setup(t);
  const index = (await h.linkGet('br0')).index;
  const addresses = Array.from({ length: 64 }, (_, i) => `10.60.${i}.1/24`);
  const before = h.datagramsSent;
  const outcomes = await Promise.allSettled([...addresses, '10.60.5.1/24'].map((address) => h.addrAdd(index, { address })));
  t.is(h.datagramsSent - before, 1);
  t.is(outcomes.filter((o) => o.status === 'fulfilled').length, 64);
  const duplicate = outcomes[64]!;
  t.true(duplicate.status === 'rejected' && duplicate.reason instanceof NetlinkError && duplicate.reason.code === 'EEXIST');
  const results = await Promise.allSettled([h.linkGet('br0'), h.linkGet('absent'), h.addrList({ link: 'br0', family: 'ipv4' })]);
  t.is(results[0].status, 'fulfilled');
  t.is(results[1].status, 'rejected');
  t.is(results[2].status === 'fulfilled' ? results[2].value.length : -1, 64);
  t.is(ns.json<IpAddr[]>('ip', '-4', 'addr', 'show', 'dev', 'br0')[0]!.addr_info.length, 64);
});

test('requests reach the kernel in the order they were made, around dumps and offloaded deletes', async (t) => {
  const { h } = await setup(t);
  await h.linkAdd({ kind: 'bridge', name: 'ordered' });
  const index = (await h.linkGet('ordered')).index;
  // Made in one tick, not awaited one by one: set up, list, delete (offloaded), list.
  const [, afterUp, , afterDelete] = await Promise.all([h.linkSetUp(index), h.linkList(), h.linkDel(index), h.linkList()]);
  t.true(afterUp.find((l) => l.name === 'ordered')?.up);
  t.false(afterDelete.some((l) => l.name === 'ordered'));
});
