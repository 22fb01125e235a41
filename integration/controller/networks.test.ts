// Bridge networks through the daemon's Docker-shaped API, checked in the kernel: the bridge, its
// addresses and MTU, the firewall chains, and what is left after errors, removal and restarts.
// Every test runs its own daemon in its own test host.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

interface IpLink {
  ifname: string;
  mtu: number;
  operstate: string;
  flags: string[];
  ifalias?: string;
  linkinfo?: { info_kind: string };
  addr_info?: Array<{ local: string; prefixlen: number }>;
}

interface NetworkJson {
  Name: string;
  Id: string;
  Driver: string;
  Scope: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable: boolean;
  IPAM: { Driver: string; Config: Array<{ Subnet: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }> };
  Options: Record<string, string>;
  Labels: Record<string, string>;
  Containers: Record<string, unknown>;
}

async function setup(t: Parameters<typeof createTestNamespace>[0] & { teardown(fn: () => Promise<void> | void): void }, args: string[] = ['--bridge', 'none']): Promise<{ ns: TestNamespace; daemon: TestDaemon; api: Api }> {
  const ns = createTestNamespace(t, 'nctl-net');
  const daemon = await startDaemon(t, { netns: ns.path, args });
  return { ns, daemon, api: api(daemon.socketPath) };
}

type Api = ReturnType<typeof api>;

function api(socketPath: string) {
  return {
    create: async (body: unknown) => request(socketPath, 'POST', '/v1.41/networks/create', body),
    createOk: async (body: Record<string, unknown>): Promise<string> => {
      const reply = await request(socketPath, 'POST', '/v1.41/networks/create', body);
      if (reply.status !== 201) throw new Error(`create ${JSON.stringify(body)}: ${reply.status} ${reply.text}`);
      return reply.json<{ Id: string }>().Id;
    },
    inspect: async (ref: string) => request(socketPath, 'GET', `/v1.41/networks/${encodeURIComponent(ref)}`),
    list: async (filters?: unknown): Promise<NetworkJson[]> => {
      const query = filters === undefined ? '' : `?filters=${encodeURIComponent(JSON.stringify(filters))}`;
      const reply = await request(socketPath, 'GET', `/v1.41/networks${query}`);
      if (reply.status !== 200) throw new Error(`list: ${reply.status} ${reply.text}`);
      return reply.json<NetworkJson[]>();
    },
    remove: async (ref: string) => request(socketPath, 'DELETE', `/v1.41/networks/${encodeURIComponent(ref)}`),
  };
}

const links = (ns: TestNamespace): IpLink[] => ns.json<IpLink[]>('ip', '-d', 'addr', 'show');
const link = (ns: TestNamespace, name: string): IpLink | undefined => links(ns).find((l) => l.ifname === name);
const iptables = (ns: TestNamespace, table: string): string => ns.run('iptables-save', '-t', table);

test('create, inspect, list and remove a bridge network: the kernel follows each step', async (t) => {
  const { ns, api: a } = await setup(t);
  const id = await a.createOk({
    Name: 'web',
    Driver: 'bridge',
    IPAM: { Config: [{ Subnet: '10.31.0.0/24', Gateway: '10.31.0.254', IPRange: '10.31.0.128/25', AuxiliaryAddresses: { router: '10.31.0.2' } }] },
    Options: { 'com.docker.network.bridge.name': 'br-web', 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.enable_icc': 'false' },
    Labels: { tier: 'front' },
  });
  t.regex(id, /^[0-9a-f]{64}$/);

  const bridge = link(ns, 'br-web');
  t.truthy(bridge, 'the bridge exists');
  t.is(bridge!.linkinfo?.info_kind, 'bridge');
  t.is(bridge!.mtu, 1400);
  t.true(bridge!.flags.includes('UP'));
  t.is(bridge!.ifalias, `netctl-network:${id}`);
  t.deepEqual(bridge!.addr_info!.filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`), ['10.31.0.254/24']);
  const filter = iptables(ns, 'filter');
  t.regex(filter, new RegExp(`-A NETCTL-FORWARD -o br-web -j NETCTL-N-${id.slice(0, 12)}`));
  t.regex(filter, /-A NETCTL-N-\w+ -i br-web -o br-web -j DROP/, 'ICC off');
  t.regex(iptables(ns, 'nat'), /-s 10\.31\.0\.0\/24 ! -o br-web -j MASQUERADE/);
  t.is(ns.run('cat', '/proc/sys/net/ipv4/ip_forward').trim(), '1');

  const inspected = (await a.inspect('web')).json<NetworkJson>();
  t.like(inspected, { Name: 'web', Id: id, Driver: 'bridge', Scope: 'local', EnableIPv6: false, Internal: false, Attachable: false, Labels: { tier: 'front' }, Containers: {} });
  t.deepEqual(inspected.IPAM.Config, [{ Subnet: '10.31.0.0/24', Gateway: '10.31.0.254', IPRange: '10.31.0.128/25', AuxiliaryAddresses: { router: '10.31.0.2' } }]);
  t.is(inspected.Options['com.docker.network.driver.mtu'], '1400');
  for (const ref of [id, id.slice(0, 12), id.slice(0, 3)]) t.is((await a.inspect(ref)).json<NetworkJson>().Id, id, `by ${ref}`);
  t.deepEqual((await a.list()).map((n) => n.Name).sort(), ['host', 'none', 'web']);

  const removed = await a.remove('web');
  t.is(removed.status, 204);
  t.is(link(ns, 'br-web'), undefined, 'the bridge is gone');
  t.notRegex(iptables(ns, 'filter'), /NETCTL/, 'the last network took every netctl rule with it');
  t.notRegex(iptables(ns, 'nat'), /NETCTL/);
  t.is((await a.inspect(id)).status, 404);
  // The pool is free again.
  await a.createOk({ Name: 'again', IPAM: { Config: [{ Subnet: '10.31.0.0/24' }] } });
});

test('the default bridge network: netctl0 on the first free default pool, host routes avoided; --bridge none removes it', async (t) => {
  const ns = createTestNamespace(t, 'nctl-net');
  // A host route over 172.17.0.0/16 makes Docker's first default pool unusable here.
  ns.run('ip', 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplink-p');
  ns.run('ip', 'addr', 'add', '172.17.9.1/24', 'dev', 'uplink');
  ns.run('ip', 'link', 'set', 'uplink', 'up');
  const first = await startDaemon(t, { netns: ns.path });
  const a = api(first.socketPath);
  const bridge = (await a.list({ name: ['bridge'] }))[0]!;
  t.like(bridge, { Name: 'bridge', Driver: 'bridge' });
  t.deepEqual(bridge.IPAM.Config, [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }]);
  t.is(bridge.Options['com.docker.network.bridge.name'], 'netctl0');
  t.deepEqual(link(ns, 'netctl0')!.addr_info!.filter((x) => x.local.includes('.')).map((x) => x.local), ['172.18.0.1']);
  const refused = await a.remove('bridge');
  t.is(refused.status, 403);
  t.is(refused.json<{ message: string }>().message, 'bridge is a pre-defined network and cannot be removed');
  t.is((await a.remove('host')).status, 403);
  t.is((await a.create({ Name: 'host2', Driver: 'host' })).status, 403, 'one host network only');
  await first.stop();

  const second = await startDaemon(t, { netns: ns.path, root: first.root, runDir: first.runDir, args: ['--bridge', 'none'] });
  t.deepEqual((await api(second.socketPath).list()).map((n) => n.Name).sort(), ['host', 'none']);
  t.is(link(ns, 'netctl0'), undefined);
  t.notRegex(iptables(ns, 'filter'), /NETCTL/);
});

test('bad requests: Docker status codes and wording, and nothing is created', async (t) => {
  const { ns, api: a, daemon } = await setup(t);
  await a.createOk({ Name: 'taken', IPAM: { Config: [{ Subnet: '10.32.0.0/24' }] } });
  const before = { links: links(ns).map((l) => l.ifname).sort(), filter: iptables(ns, 'filter'), nat: iptables(ns, 'nat') };
  ns.run('ip', 'link', 'add', 'busy0', 'type', 'veth', 'peer', 'name', 'busy0-p');
  before.links = links(ns).map((l) => l.ifname).sort();

  const cases: Array<[unknown, number, RegExp]> = [
    [{ Name: 'taken' }, 409, /^network with name taken already exists$/],
    [{ Name: 'x1', IPAM: { Config: [{ Subnet: '10.32.0.0/16' }] } }, 403, /^Pool overlaps with other one on this address space: subnet 10\.32\.0\.0\/16 overlaps 10\.32\.0\.0\/24 of network taken;/],
    [{ Name: 'x2', IPAM: { Config: [{ Subnet: '10.33.0/24' }] } }, 400, /invalid subnet "10\.33\.0\/24"/],
    [{ Name: 'x3', IPAM: { Config: [{ Subnet: '10.33.0.0/24', Gateway: '10.34.0.1' }] } }, 400, /10\.34\.0\.1/],
    [{ Name: 'x4', Driver: 'nope' }, 404, /^plugin "nope" not found$/],
    [{ Name: 'x5', Options: { 'com.docker.network.bridge.enable_icc': 'maybe' } }, 400, /enable_icc: use true or false/],
    [{ Name: 'x6', Options: { 'no.such.option': '1' } }, 400, /unknown option "no\.such\.option"/],
    [{ Name: 'x7', Options: { 'com.docker.network.bridge.name': 'busy0' } }, 400, /cannot use "busy0" as the network's bridge: it is a veth link, not a bridge/],
    [{ Name: 'x8', IPAM: { Config: [{ Subnet: 'fd00:8::/64' }] } }, 400, /IPv6 is not enabled/],
    [{ Name: 'bad name!' }, 400, /invalid network name/],
    [{ Driver: 'bridge' }, 400, /Name is required/],
    [{ Name: 'x9', Internal: 'yes' }, 400, /Internal must be true or false/],
    ['{"Name": "x10",', 400, /invalid JSON/],
    [[1, 2], 400, /must be a JSON object/],
  ];
  for (const [body, status, message] of cases) {
    const reply = await a.create(body);
    t.is(reply.status, status, `${JSON.stringify(body)} → ${reply.text}`);
    t.regex(reply.json<{ message: string }>().message, message);
  }
  t.is((await a.inspect('nothere')).status, 404);
  t.is((await a.remove('nothere')).json<{ message: string }>().message, 'network nothere not found');

  t.deepEqual(links(ns).map((l) => l.ifname).sort(), before.links, 'no link was left behind');
  t.is(iptables(ns, 'filter').replace(/^#.*\n/gm, ''), before.filter.replace(/^#.*\n/gm, ''), 'no filter rule was left behind');
  t.is(iptables(ns, 'nat').replace(/^#.*\n/gm, ''), before.nat.replace(/^#.*\n/gm, ''), 'no nat rule was left behind');
  t.deepEqual((await a.list()).map((n) => n.Name).sort(), ['host', 'none', 'taken']);
  // The failed create with busy0 had allocated its pool before the driver refused: it was released.
  const next = await a.createOk({ Name: 'next' });
  t.deepEqual((await a.inspect(next)).json<NetworkJson>().IPAM.Config[0]!.Subnet, '172.17.0.0/16');
  t.is(daemon.process.exitCode, null, 'the daemon is still running');
});

test('names are unique under concurrent creates, and concurrent creates get distinct pools', async (t) => {
  const { ns, api: a } = await setup(t);
  const same = await Promise.all(Array.from({ length: 5 }, () => a.create({ Name: 'dup' })));
  t.deepEqual(same.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
  const many = await Promise.all(Array.from({ length: 8 }, (_, i) => a.createOk({ Name: `n${i}` })));
  t.is(new Set(many).size, 8);
  const subnets = (await a.list({ type: ['custom'] })).map((n) => n.IPAM.Config[0]!.Subnet);
  t.is(subnets.length, 9);
  t.is(new Set(subnets).size, 9, `distinct subnets: ${subnets.join(' ')}`);
  t.is(links(ns).filter((l) => l.linkinfo?.info_kind === 'bridge').length, 9);
  // Every network has its own chain and hooks; removing them all in parallel leaves nothing.
  const removals = await Promise.all((await a.list({ type: ['custom'] })).map((n) => a.remove(n.Id)));
  t.true(removals.every((r) => r.status === 204));
  t.is(links(ns).filter((l) => l.linkinfo?.info_kind === 'bridge').length, 0);
  t.notRegex(iptables(ns, 'filter'), /NETCTL/);
});

test('list filters and prune, as Docker applies them', async (t) => {
  const { ns, api: a, daemon } = await setup(t);
  const front = await a.createOk({ Name: 'front', Labels: { tier: 'web', env: 'prod' } });
  await a.createOk({ Name: 'back', Labels: { tier: 'db' } });
  await a.createOk({ Name: 'scratch' });
  const names = async (filters: unknown): Promise<string[]> => (await a.list(filters)).map((n) => n.Name).sort();
  t.deepEqual(await names({ name: { ront: true } }), ['front'], 'name matches a substring');
  t.deepEqual(await names({ id: [front.slice(0, 10)] }), ['front']);
  t.deepEqual(await names({ label: ['tier'] }), ['back', 'front']);
  t.deepEqual(await names({ label: ['tier=db'] }), ['back']);
  t.deepEqual(await names({ driver: ['null'] }), ['none']);
  t.deepEqual(await names({ type: ['builtin'] }), ['host', 'none']);
  t.deepEqual(await names({ dangling: ['true'] }), ['back', 'front', 'scratch']);
  t.deepEqual(await names({ name: ['front', 'back'], label: ['env=prod'] }), ['front'], 'keys AND, values OR');
  const badFilter = await request(daemon.socketPath, 'GET', `/networks?filters=${encodeURIComponent('{"colour":["red"]}')}`);
  t.is(badFilter.status, 400);
  t.regex(badFilter.json<{ message: string }>().message, /Invalid filter 'colour'/);

  const pruned = await request(daemon.socketPath, 'POST', `/v1.41/networks/prune?filters=${encodeURIComponent('{"label!":["env=prod"]}')}`);
  t.is(pruned.status, 200);
  t.deepEqual(pruned.json<{ NetworksDeleted: string[] }>().NetworksDeleted.sort(), ['back', 'scratch']);
  const all = await request(daemon.socketPath, 'POST', '/networks/prune');
  t.deepEqual(all.json<{ NetworksDeleted: string[] }>().NetworksDeleted, ['front']);
  t.deepEqual(await names(undefined), ['host', 'none'], 'predefined networks are never pruned');
  t.is(links(ns).filter((l) => l.linkinfo?.info_kind === 'bridge').length, 0);
});

test('a restarted daemon has its networks back and repairs the kernel: missing bridge and rules recreated, orphans removed', async (t) => {
  const ns = createTestNamespace(t, 'nctl-net');
  const first = await startDaemon(t, { netns: ns.path });
  const a = api(first.socketPath);
  const keep = await a.createOk({ Name: 'keep', IPAM: { Config: [{ Subnet: '10.35.0.0/24' }] } });
  const broken = await a.createOk({ Name: 'broken', IPAM: { Config: [{ Subnet: '10.36.0.0/24' }] } });
  const before = await a.list();
  // SIGKILL: no shutdown code runs.
  first.process.kill('SIGKILL');
  await first.stop();

  // Damage done while the daemon was down: one bridge deleted, every rule flushed, and an orphan
  // bridge and chain such as a crash between steps would leave.
  ns.run('ip', 'link', 'del', `br-${broken.slice(0, 12)}`);
  ns.run('iptables', '-t', 'filter', '-F', `NETCTL-N-${keep.slice(0, 12)}`);
  ns.run('ip', 'link', 'add', 'br-orphan', 'type', 'bridge');
  ns.run('ip', 'link', 'set', 'br-orphan', 'alias', `netctl-network:${'ab'.repeat(32)}`);
  ns.run('ip', 'link', 'add', 'br-admin', 'type', 'bridge');

  const second = await startDaemon(t, { netns: ns.path, root: first.root, runDir: first.runDir });
  const after = await api(second.socketPath).list();
  t.deepEqual(after.map((n) => `${n.Name} ${n.Id}`).sort(), before.map((n) => `${n.Name} ${n.Id}`).sort());
  const repaired = link(ns, `br-${broken.slice(0, 12)}`);
  t.truthy(repaired, 'the missing bridge is back');
  t.true(repaired!.addr_info!.some((x) => x.local === '10.36.0.1'));
  t.true(repaired!.flags.includes('UP'));
  t.regex(iptables(ns, 'filter'), new RegExp(`-A NETCTL-N-${keep.slice(0, 12)} .*-j DROP`), 'the flushed chain is refilled');
  t.regex(iptables(ns, 'filter'), new RegExp(`NETCTL-N-${broken.slice(0, 12)}`));
  t.is(link(ns, 'br-orphan'), undefined, 'the orphan bridge is removed');
  t.truthy(link(ns, 'br-admin'), "an admin's bridge is left alone");
  t.truthy(link(ns, 'netctl0'));
});

test('IPv6 dual stack: --ipv6 with an IPv6 subnet puts both gateways on the bridge and the rules in ip6tables', async (t) => {
  const { ns, api: a } = await setup(t);
  const id = await a.createOk({ Name: 'dual', EnableIPv6: true, IPAM: { Config: [{ Subnet: '10.37.0.0/24' }, { Subnet: 'fd00:37::/64' }] } });
  const inspected = (await a.inspect(id)).json<NetworkJson>();
  t.true(inspected.EnableIPv6);
  t.deepEqual(inspected.IPAM.Config, [
    { Subnet: '10.37.0.0/24', Gateway: '10.37.0.1' },
    { Subnet: 'fd00:37::/64', Gateway: 'fd00:37::1' },
  ]);
  const addrs = link(ns, `br-${id.slice(0, 12)}`)!.addr_info!.map((x) => `${x.local}/${x.prefixlen}`);
  t.true(addrs.includes('10.37.0.1/24'));
  t.true(addrs.includes('fd00:37::1/64'));
  t.is(ns.run('cat', '/proc/sys/net/ipv6/conf/all/forwarding').trim(), '1');
  const chain = `NETCTL-N-${id.slice(0, 12)}`;
  t.regex(ns.run('ip6tables-save'), new RegExp(`^-A NETCTL-FORWARD -o br-${id.slice(0, 12)} -j ${chain}$`, 'm'));
  t.regex(ns.run('ip6tables-save'), /^-A NETCTL-M-\w+ -s fd00:37::\/64 ! -o br-\w+ -j MASQUERADE$/m);
  t.regex(ns.run('iptables-save'), new RegExp(`^:${chain} `, 'm'));
  t.is((await a.remove(id)).status, 204);
  t.is(link(ns, `br-${id.slice(0, 12)}`), undefined);
  t.notRegex(ns.run('ip6tables-save'), new RegExp(id.slice(0, 12)));
});

test('connect and disconnect name the missing container (containers come with the launcher)', async (t) => {
  const { api: a, daemon } = await setup(t);
  await a.createOk({ Name: 'n' });
  const reply = await request(daemon.socketPath, 'POST', '/v1.41/networks/n/connect', { Container: 'ghost' });
  t.is(reply.status, 404);
  t.is(reply.json<{ message: string }>().message, 'No such container: ghost');
  t.is((await request(daemon.socketPath, 'POST', '/v1.41/networks/nope/disconnect', { Container: 'ghost' })).status, 404);
  t.is((await request(daemon.socketPath, 'POST', '/v1.41/networks/n/connect', {})).status, 400);
});

test.after.always('no test host is left', () => {
  // Each test removes its own namespace; this guards against a helper that forgot one.
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('nctl-net-'));
  if (left.length > 0) throw new Error(`test hosts left behind: ${left.join(', ')}`);
});
