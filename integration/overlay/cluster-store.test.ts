// What an overlay network takes from the cluster store, through daemons: its VNI (4096 up, or the
// one asked for), its subnet from the cluster's default pools unless given, never one another host's
// network has; on each host with containers, vxlan0 as the issue asks (read with `ip -d` in the
// overlay namespace), the MTU the underlay's − 50 or the option, IPv4 and IPv6 across hosts. The
// refusal without a cluster; with etcd down, what keeps working and what is refused.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { netctlCli, type Runner } from '../helpers/cli';
import { inspect, ok, pings } from '../helpers/containers';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { startEtcd, type TestEtcd } from '../helpers/etcd';
import { createUnderlay, type UnderlayHost } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

interface Host {
  host: UnderlayHost;
  daemon: TestDaemon;
  cli: Runner;
}

/** etcd and a daemon per entry of `mtus` (its underlay MTU), node names `prefix-N`, on one underlay. */
async function cluster(t: ExecutionContext, prefix: string, mtus: number[]): Promise<Host[] & { etcd: TestEtcd; etcdHost: UnderlayHost }> {
  const underlay = createUnderlay(t);
  const etcdHost = underlay.addHost();
  const etcd = await startEtcd(t, { netns: etcdHost.ns.path, host: etcdHost.address });
  const hosts: Host[] = [];
  for (const [i, mtu] of mtus.entries()) {
    const host = underlay.addHost();
    host.ns.run('ip', 'link', 'set', 'eth0', 'mtu', String(mtu));
    const daemon = await startDaemon(t, { netns: host.ns.path, args: ['--bridge', 'none', '--cluster-store', `etcd://${etcdHost.address}:2379`, '--advertise-addr', host.address, '--node-name', `${prefix}-${i}`] });
    const cli = netctlCli(daemon.socketPath);
    // Containers outlive their daemon by design: removed before it stops.
    t.teardown(async () => {
      const ids = (await cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await cli(['rm', '-f', ...ids]);
    });
    hosts.push({ host, daemon, cli });
  }
  return Object.assign(hosts, { etcd, etcdHost });
}

interface NetworkInspect {
  Id: string;
  Options: Record<string, string>;
  IPAM: { Config: Array<{ Subnet: string }> };
}

const inspectNetwork = async (cli: Runner, name: string): Promise<NetworkInspect> => (JSON.parse(await ok(cli, ['network', 'inspect', name])) as NetworkInspect[])[0]!;

interface DetailedLink {
  ifname: string;
  mtu: number;
  master?: string;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

/** The links of a network's overlay namespace on a host, as `ip -j -d link` shows them. */
async function overlayLinks(host: Host, network: string): Promise<DetailedLink[]> {
  const id = (await inspectNetwork(host.cli, network)).Id;
  const ns = path.join(host.daemon.runDir, 'overlay', `ov-${id}`);
  return JSON.parse(execFileSync('nsenter', [`--net=${ns}`, 'ip', '-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as DetailedLink[];
}

const mtuIn = async (cli: Runner, container: string): Promise<number> => Number((await ok(cli, ['exec', container, '--', 'cat', '/sys/class/net/eth0/mtu'])).trim());

test('without a cluster, -d overlay is refused saying what to add, and nothing is made', async (t) => {
  const underlay = createUnderlay(t);
  const daemon = await startDaemon(t, { netns: underlay.addHost().ns.path, args: ['--bridge', 'none'] });
  const cli = netctlCli(daemon.socketPath);
  const run = await cli(['network', 'create', '-d', 'overlay', '--attachable', 'ov']);
  t.is(run.code, 1, 'as docker network create');
  t.regex(run.stderr, /this daemon is in none: start it with --cluster-store etcd:\/\/HOST:PORT \(or embedded\) and --advertise-addr IP\|IFACE/);
  const reply = await request(daemon.socketPath, 'POST', '/networks/create', { Name: 'ov', Driver: 'overlay' });
  t.is(reply.status, 403, reply.text);
  t.notRegex(await ok(cli, ['network', 'ls']), /\bov\b/);
});

test('VNIs from 4096 up, the same on every host, or the one asked for; vxlan0 on UDP 4789 from the advertise address, no learning, proxy ARP, no miss notifications; MTU the underlay\'s − 50 or the option; dual-stack containers on two hosts ping each other', async (t) => {
  const [a, b] = await cluster(t, 'ovc', [1450, 1500]);
  await ok(a!.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--ipv6', '--subnet', '10.220.0.0/24', '--subnet', 'fd20::/64', 'dual']);
  await ok(b!.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.221.0.0/24', '-o', 'com.docker.network.driver.overlay.vxlanid_list=5000', '-o', 'com.docker.network.driver.mtu=1300', 'pinned']);
  await ok(a!.cli, ['run', '-d', '--name', 'left', '--network', 'dual', 'sleep', '300']);
  await ok(a!.cli, ['network', 'connect', 'pinned', 'left']);
  await ok(b!.cli, ['run', '-d', '--name', 'right', '--network', 'dual', 'sleep', '300']);

  for (const [host, mtu] of [[a!, 1400], [b!, 1450]] as const) {
    const links = await overlayLinks(host, 'dual');
    const vxlan = links.find((l) => l.ifname === 'vxlan0')!;
    t.like(vxlan.linkinfo, { info_kind: 'vxlan', info_data: { id: 4096, port: 4789, local: host.host.address, learning: false, proxy: true } }, JSON.stringify(vxlan));
    for (const flag of ['l2miss', 'l3miss']) t.false(flag in vxlan.linkinfo!.info_data!, `${flag} off`);
    t.is(vxlan.master, 'br0', 'vxlan0 is a port of the bridge');
    t.is(vxlan.mtu, mtu, `the underlay's ${mtu + 50} − 50`);
    t.is(links.find((l) => l.ifname === 'br0')?.mtu, mtu);
  }
  t.is(await mtuIn(a!.cli, 'left'), 1400, 'the container\'s interface too');
  const pinned = (await overlayLinks(a!, 'pinned')).find((l) => l.ifname === 'vxlan0')!;
  t.is(pinned.linkinfo?.info_data?.['id'], 5000, 'the VNI asked for');
  t.is(pinned.mtu, 1300, 'the MTU asked for');

  type DualStack = { IPAddress: string; GlobalIPv6Address: string };
  const left = (await inspect(a!.cli, 'left')).NetworkSettings.Networks['dual'] as unknown as DualStack;
  const right = (await inspect(b!.cli, 'right')).NetworkSettings.Networks['dual'] as unknown as DualStack;
  t.regex(left.GlobalIPv6Address, /^fd20::/);
  t.regex(right.GlobalIPv6Address, /^fd20::/);
  t.true(await pings(a!.cli, 'left', right.IPAddress, 10), 'IPv4 across hosts');
  t.true((await b!.cli(['exec', 'right', '--', 'ping6', '-c', '1', '-W', '2', left.GlobalIPv6Address])).code === 0, 'IPv6 across hosts');
});

test('subnets from the cluster\'s default pools when none is given, distinct across hosts; a subnet or VNI another host\'s network has is refused, and nothing is made', async (t) => {
  const [a, b] = await cluster(t, 'ovp', [1500, 1500]);
  await ok(a!.cli, ['network', 'create', '-d', 'overlay', 'auto1']);
  await ok(b!.cli, ['network', 'create', '-d', 'overlay', 'auto2']);
  const subnets = await Promise.all([inspectNetwork(a!.cli, 'auto1'), inspectNetwork(b!.cli, 'auto2')].map(async (n) => (await n).IPAM.Config.map((c) => c.Subnet)));
  for (const [subnet] of subnets) t.regex(subnet!, /^10\.\d+\.\d+\.0\/24$/, 'a /24 of 10.0.0.0/8 (GlobalDefault)');
  t.not(subnets[0]![0], subnets[1]![0], 'two hosts never get the same pool');

  const taken = subnets[0]![0]!;
  const covering = taken.replace(/\.\d+\.0\/24$/, '.0.0/16');
  for (const subnet of [taken, covering]) {
    const create = await b!.cli(['network', 'create', '-d', 'overlay', '--subnet', subnet, 'clash']);
    t.is(create.code, 1, create.stderr);
    t.regex(create.stderr, /Pool overlaps with other one on this address space: subnet \S+ (is network auto1's|overlaps \S+ of network auto1)/);
  }
  const vni = (await inspectNetwork(a!.cli, 'auto1')).Options['com.docker.network.driver.overlay.vxlanid_list'];
  t.is(vni, '4096', 'the VNI shows in Options, as Docker shows it');
  await until('auto1 listed on host B', async () => (await b!.cli(['network', 'inspect', 'auto1'])).code === 0, 15_000, 100);
  t.is((await inspectNetwork(b!.cli, 'auto1')).Options['com.docker.network.driver.overlay.vxlanid_list'], '4096', 'on every host');
  const sameVni = await request(b!.daemon.socketPath, 'POST', '/networks/create', { Name: 'clash', Driver: 'overlay', Options: { 'com.docker.network.driver.overlay.vxlanid_list': vni } });
  t.is(sameVni.status, 403, sameVni.text);
  t.regex(sameVni.json<{ message: string }>().message, /VXLAN ID 4096 is already in use by network [0-9a-f]{64}; choose another one/);
  for (const { cli } of [a!, b!]) t.notRegex(await ok(cli, ['network', 'ls']), /\bclash\b/, 'no network left of the refused creates');
});

test('etcd down: overlays already there keep carrying traffic and names across hosts; a create is refused saying the cluster store is unreachable (503), leaving nothing', async (t) => {
  const hosts = await cluster(t, 'ove', [1500, 1500]);
  const [a, b] = hosts;
  await ok(a!.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.222.0.0/24', 'kept']);
  await ok(a!.cli, ['run', '-d', '--name', 'left', '--network', 'kept', 'sleep', '300']);
  await until('kept listed on host B', async () => (await b!.cli(['network', 'inspect', 'kept'])).code === 0, 15_000, 100);
  await ok(b!.cli, ['run', '-d', '--name', 'right', '--network', 'kept', 'sleep', '300']);
  const right = (await inspect(b!.cli, 'right')).NetworkSettings.Networks['kept']!.IPAddress;
  await until('left reaches right by name', () => pings(a!.cli, 'left', 'right', 1), 15_000, 200);

  await hosts.etcd.stop();
  t.true(await pings(a!.cli, 'left', right, 5), 'by address, etcd down');
  t.true(await pings(b!.cli, 'right', 'left', 5), 'by name, back');
  const create = await a!.cli(['network', 'create', '-d', 'overlay', '--subnet', '10.223.0.0/24', 'late']);
  t.is(create.code, 1);
  t.regex(create.stderr, /cannot create the global network late: the cluster store is unreachable \(.*\)\. Until it answers, global-scope networks cannot be created or removed, nor joined on a host that does not carry them yet; local networks and everything already running keep working/s);
  // A create waits out the store's retry window (10 s) before it fails.
  const reply = await request(a!.daemon.socketPath, 'POST', '/networks/create', { Name: 'late2', Driver: 'overlay' }, 30_000);
  t.is(reply.status, 503, reply.text);
  t.notRegex(await ok(a!.cli, ['network', 'ls']), /\blate/, 'nothing made');
  t.true(await pings(a!.cli, 'left', right, 5), 'and still across after the refusals');
});

/** The keys under `prefix` (below the daemons' /netctl/) and their JSON values, read from etcd's HTTP gateway in its test host. */
function etcdRange(etcdHost: UnderlayHost, prefix: string): Map<string, unknown> {
  const full = '/netctl/' + prefix;
  const end = full.slice(0, -1) + String.fromCharCode(full.charCodeAt(full.length - 1) + 1);
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const body = JSON.stringify({ key: b64(full), range_end: b64(end) });
  const out = execFileSync('nsenter', [`--net=${etcdHost.ns.path}`, 'curl', '-sf', '--max-time', '5', `http://${etcdHost.address}:2379/v3/kv/range`, '-d', body], { encoding: 'utf8' });
  const kvs = (JSON.parse(out) as { kvs?: Array<{ key: string; value: string }> }).kvs ?? [];
  return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString('utf8').slice(full.length), JSON.parse(Buffer.from(kv.value, 'base64').toString('utf8')) as unknown]));
}

/** A host's spare addresses of a pool in etcd. */
const sparesIn = (etcdHost: UnderlayHost, poolPrefix: string, node: string): string[] =>
  [...etcdRange(etcdHost, poolPrefix)].filter(([, record]) => (record as { role: string; name?: string }).role === 'spare' && (record as { name?: string }).name === node).map(([ip]) => ip);

test('etcd down: a run on a host that carries the overlay takes one of its spare addresses and is reachable by address and name; elsewhere, or with --ip, refused; etcd back: recorded, spares topped up, rm works', async (t) => {
  const hosts = await cluster(t, 'ovj', [1500, 1500, 1500]);
  const [a, b, c] = hosts as unknown as [Host, Host, Host];
  const { etcd, etcdHost } = hosts;
  await ok(a.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.224.0.0/24', 'carried']);
  await ok(a.cli, ['run', '-d', '--name', 'left', '--network', 'carried', 'sleep', '300']);
  await until('carried listed on host B', async () => (await b.cli(['network', 'inspect', 'carried'])).code === 0, 15_000, 100);
  await ok(b.cli, ['run', '-d', '--name', 'right', '--network', 'carried', 'sleep', '300']);
  await until('left reaches right by name', () => pings(a.cli, 'left', 'right', 1), 15_000, 200);
  const pool = 'ipam/GlobalDefault/addrs/GlobalDefault%2F10.224.0.0%2F24/';
  await until('host A to hold its 4 spares', async () => sparesIn(etcdHost, pool, 'ovj-0').length === 4, 15_000, 100);
  const spares = sparesIn(etcdHost, pool, 'ovj-0');
  t.is(sparesIn(etcdHost, pool, 'ovj-2').length, 0, 'C carries nothing, holds no spare');

  await etcd.stop();
  await ok(a.cli, ['run', '-d', '--name', 'late', '--network', 'carried', 'sleep', '300']);
  const late = (await inspect(a.cli, 'late')).NetworkSettings.Networks['carried']!;
  t.true(spares.includes(late.IPAddress), `${late.IPAddress} is one of A's spares (${spares.join(', ')})`);
  t.true(await pings(b.cli, 'right', late.IPAddress, 10), 'B reaches the new container by address');
  t.true(await pings(b.cli, 'right', 'late', 10), 'and by name');
  t.true(await pings(a.cli, 'late', 'right', 5), 'and it reaches B');

  const elsewhere = await c.cli(['run', '-d', '--name', 'nowhere', '--network', 'carried', 'sleep', '300']);
  t.not(elsewhere.code, 0);
  t.regex(elsewhere.stderr, /cannot connect to the global network carried: the cluster store is unreachable .*nor joined on a host that does not carry them yet/s);
  const fixed = await a.cli(['run', '-d', '--name', 'fixed', '--network', 'carried', '--ip', '10.224.0.200', 'sleep', '300']);
  t.not(fixed.code, 0);
  t.regex(fixed.stderr, /the cluster store is unreachable .*A given address \(--ip\) can only be claimed there: leave it out to take one of this host's spare addresses, or retry when the store answers/s);
  t.notRegex(await ok(a.cli, ['ps']), /\bfixed\b/, 'the refused container does not run');

  await etcd.start();
  const endpointId = (JSON.parse(await ok(a.cli, ['network', 'inspect', 'carried'])) as Array<{ Containers: Record<string, { Name: string; EndpointID: string }> }>)[0]!.Containers;
  const lateEndpoint = Object.values(endpointId).find((e) => e.Name === 'late')!.EndpointID;
  const hostsKey = (): { endpoints?: string[] } | undefined => [...etcdRange(etcdHost, 'networks/')].find(([key]) => key.endsWith('/hosts/ovj-0'))?.[1] as { endpoints?: string[] } | undefined;
  await until('A\'s endpoint list in etcd to have the new endpoint', async () => hostsKey()?.endpoints?.includes(lateEndpoint) === true, 30_000, 200);
  await until('the spare to become an endpoint record', async () => (etcdRange(etcdHost, pool).get(late.IPAddress) as { role?: string } | undefined)?.role === 'endpoint', 30_000, 200);
  await until('A\'s spares to be topped up', async () => sparesIn(etcdHost, pool, 'ovj-0').length === 4, 30_000, 200);
  t.false(sparesIn(etcdHost, pool, 'ovj-0').includes(late.IPAddress));

  await ok(a.cli, ['rm', '-f', 'left', 'late']);
  await ok(b.cli, ['rm', '-f', 'right']);
  await ok(a.cli, ['network', 'rm', 'carried']);
  t.is(etcdRange(etcdHost, pool).size, 0, 'the pool went with its spares');
});
