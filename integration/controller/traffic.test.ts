// Networks made by the daemon carry real traffic as Docker's do: containers of one network reach
// each other and the outside, containers of two networks do not, an internal network reaches
// nothing beyond itself. And a daemon killed in the middle of creates leaves no half network.
import test from 'ava';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import type { TestNamespace } from '../helpers/netns';
import { buildHost, pings } from '../firewall/topology';

async function create(daemon: TestDaemon, body: Record<string, unknown>): Promise<string> {
  const reply = await request(daemon.socketPath, 'POST', '/v1.41/networks/create', body);
  if (reply.status !== 201) throw new Error(`create: ${reply.status} ${reply.text}`);
  return reply.json<{ Id: string }>().Id;
}

test.serial('isolation, internal and outbound NAT with real traffic between containers of daemon-made networks', async (t) => {
  const topology = buildHost(t);
  const daemon = await startDaemon(t, { netns: topology.host.path, args: ['--bridge', 'none'] });
  const a = await create(daemon, { Name: 'a', IPAM: { Config: [{ Subnet: '10.61.0.0/24' }] } });
  const b = await create(daemon, { Name: 'b', IPAM: { Config: [{ Subnet: '10.62.0.0/24' }] } });
  const internal = await create(daemon, { Name: 'i', Internal: true, IPAM: { Config: [{ Subnet: '10.63.0.0/24' }] } });
  const plug = (id: string, cidr: string, gateway: string): TestNamespace => topology.addContainer(`br-${id.slice(0, 12)}`, cidr, gateway);
  const a1 = plug(a, '10.61.0.2/24', '10.61.0.1');
  const a2 = plug(a, '10.61.0.3/24', '10.61.0.1');
  const b1 = plug(b, '10.62.0.2/24', '10.62.0.1');
  const i1 = plug(internal, '10.63.0.2/24', '10.63.0.1');
  const i2 = plug(internal, '10.63.0.3/24', '10.63.0.1');

  t.true(pings(a1, '10.61.0.3'), 'same network');
  t.true(pings(i1, '10.63.0.3'), 'same internal network');
  t.true(pings(a1, '192.0.2.2'), 'out through masquerade (the outside has no route back to 10.61.0.0/24)');
  t.false(pings(a1, '10.62.0.2', 1), 'a → b is isolated');
  t.false(pings(b1, '10.61.0.2', 1), 'b → a is isolated');
  t.false(pings(i1, '192.0.2.2', 1), 'internal → outside');
  t.false(pings(i2, '10.61.0.2', 1), 'internal → another network');
  t.false(pings(a2, '10.63.0.2', 1), 'another network → internal');

  // Removing a network rewrites no other network's rules.
  t.is((await request(daemon.socketPath, 'DELETE', `/networks/${b}`)).status, 204);
  t.true(pings(a1, '10.61.0.3'), 'a is untouched by removing b');
});

// Serial: the other test's synchronous pings would stall this process and delay every reply to after the kill.
test.serial('kill -9 in the middle of creates: the restarted daemon has whole networks only, and no pool, bridge or chain of the rest', async (t) => {
  const topology = buildHost(t);
  const { host } = topology;
  const first = await startDaemon(t, { netns: host.path, args: ['--bridge', 'none'] });
  const subnets = Array.from({ length: 24 }, (_, i) => `10.70.${i}.0/24`);
  const acknowledged: string[] = [];
  const attempts = subnets.map((subnet, i) =>
    request(first.socketPath, 'POST', '/v1.41/networks/create', { Name: `k${i}`, IPAM: { Config: [{ Subnet: subnet }] } }).then(
      (reply) => {
        if (reply.status !== 201) return;
        acknowledged.push(`k${i}`);
        // Some are done, the rest under way: kill without warning, right now.
        if (acknowledged.length === 3) first.process.kill('SIGKILL');
      },
      () => undefined,
    ),
  );
  await Promise.all(attempts);
  await first.stop();
  t.true(acknowledged.length >= 3 && acknowledged.length < subnets.length, `killed mid-way: ${acknowledged.length} acknowledged`);

  const second = await startDaemon(t, { netns: host.path, root: first.root, runDir: first.runDir, args: ['--bridge', 'none'] });
  const listed = (await request(second.socketPath, 'GET', '/networks?filters=' + encodeURIComponent('{"type":["custom"]}'))).json<Array<{ Name: string; Id: string; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } }>>();
  const names = listed.map((n) => n.Name);
  for (const name of acknowledged) t.true(names.includes(name), `acknowledged network ${name} survived`);

  const links = host.json<Array<{ ifname: string; ifalias?: string; addr_info?: Array<{ local: string }> }>>('ip', 'addr', 'show');
  const chains = host.run('iptables-save', '-t', 'filter').split('\n').filter((l) => l.startsWith(':NETCTL-N-')).map((l) => l.slice(':NETCTL-N-'.length).split(' ')[0]!);
  const ids = new Set(listed.map((n) => n.Id.slice(0, 12)));
  for (const network of listed) {
    const bridge = links.find((l) => l.ifname === `br-${network.Id.slice(0, 12)}`);
    t.truthy(bridge, `${network.Name} has its bridge`);
    t.true(bridge?.addr_info?.some((a) => a.local === network.IPAM.Config[0]!.Gateway) ?? false, `${network.Name} has its gateway`);
    t.true(chains.includes(network.Id.slice(0, 12)), `${network.Name} has its chain`);
  }
  const strayBridges = links.filter((l) => l.ifalias?.startsWith('netctl-network:') && !ids.has(l.ifalias.slice('netctl-network:'.length, 'netctl-network:'.length + 12)));
  t.deepEqual(strayBridges.map((l) => l.ifname), [], 'no bridge of an unlisted network');
  t.deepEqual(chains.filter((c) => !ids.has(c)), [], 'no chain of an unlisted network');
  // Every subnet no network holds is free again: nothing of a half-made network kept its pool.
  const held = new Set(listed.map((n) => n.IPAM.Config[0]!.Subnet));
  for (const [i, subnet] of subnets.entries()) {
    if (held.has(subnet)) continue;
    const reply = await request(second.socketPath, 'POST', '/v1.41/networks/create', { Name: `again${i}`, IPAM: { Config: [{ Subnet: subnet }] } });
    t.is(reply.status, 201, `${subnet}: ${reply.text}`);
  }
});
