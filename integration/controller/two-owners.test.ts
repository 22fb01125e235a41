// A daemon's controller and an embedder's on one host, each with its own chain prefix (NETCTL-
// and NC1a2b-): either one's restart (a firewall reconcile) and network removal leave the other's
// chains, hooks and NAT rules as they were, in iptables and ip6tables, and the other's published
// port and masquerading keep working.
import test from 'ava';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from '../../src/controller';
import { ownershipOf } from '../../src/kernel/ownership';
import { type ControllerHost, startController } from '../helpers/controller-host';
import { buildHost, type Host, pings, tcpConnect, tcpEcho } from '../firewall/topology';

const EMBEDDER = 0x1a2b;
const DAEMON_PREFIX = 'NETCTL-';
const EMBEDDER_PREFIX = ownershipOf(EMBEDDER).chainPrefix;

/** The lines of both tools' save output that name a prefix's chains, counters cut. */
function linesOf(h: Host, prefix: string): string[] {
  return ['iptables-save', 'ip6tables-save'].flatMap((tool) =>
    h.host
      .run(tool)
      .split('\n')
      .filter((line) => line.includes(prefix))
      .map((line) => `${tool} ${line.replace(/\[\d+:\d+\]/, '')}`),
  );
}

interface Side {
  name: string;
  prefix: string;
  hostPort: number;
  c: ControllerHost;
  network?: NetworkRecord;
  sandbox?: SandboxRecord;
}

async function addNetwork(t: Parameters<typeof buildHost>[0], side: Side, octet: number): Promise<void> {
  side.network = await side.c.call<NetworkRecord>('create', { name: `${side.name}-net`, driver: 'bridge', enableIPv6: true, ipam: { config: [{ subnet: `10.${octet}.0.0/24` }, { subnet: `fd00:${octet}::/64` }] } });
  side.sandbox = await side.c.call<SandboxRecord>('createSandbox', {});
  await side.c.call<EndpointRecord>('connect', `${side.name}-net`, side.sandbox.id);
  await side.c.call('publish', side.sandbox.id, [{ protocol: 'tcp', hostPort: side.hostPort, containerPort: 80 }]);
  await tcpEcho(t, { path: side.sandbox.key }, 80);
}

async function removeNetwork(side: Side): Promise<void> {
  await side.c.call('disconnect', `${side.name}-net`, side.sandbox!.id);
  await side.c.call('deleteSandbox', side.sandbox!.id);
  await side.c.call('delete', `${side.name}-net`);
}

test("a daemon's and an embedder's controllers on one host never touch each other's chains, hooks or NAT rules", async (t) => {
  t.timeout(240_000);
  const h = buildHost(t);
  h.host.run('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
  const daemon: Side = { name: 'd', prefix: DAEMON_PREFIX, hostPort: 8081, c: await startController(t, { netns: h.host.path }) };
  const embedder: Side = { name: 'e', prefix: EMBEDDER_PREFIX, hostPort: 8082, c: await startController(t, { netns: h.host.path, identity: EMBEDDER }) };
  await addNetwork(t, daemon, 81);
  await addNetwork(t, embedder, 82);

  /** The side's port reaches its container from outside, and its container reaches outside through NAT. */
  const works = (side: Side): void => {
    t.is(tcpConnect(h.outside, h.uplinkIp, side.hostPort), '192.0.2.2', `${side.name}'s published port`);
    t.true(pings({ path: side.sandbox!.key }, '192.0.2.2'), `${side.name}'s container is masqueraded (the outside has no route back)`);
  };
  const hooks = (prefix: string): RegExp[] => [new RegExp(`^iptables-save -A FORWARD -j ${prefix}FORWARD$`, 'm'), new RegExp(`^iptables-save -A POSTROUTING -j ${prefix}POSTROUTING$`, 'm'), new RegExp(`^ip6tables-save -A PREROUTING -m addrtype --dst-type LOCAL -j ${prefix}DNAT$`, 'm')];
  for (const side of [daemon, embedder]) {
    const own = linesOf(h, side.prefix).join('\n');
    for (const hook of hooks(side.prefix)) t.regex(own, hook);
    t.regex(own, new RegExp(`-A ${side.prefix}D-${side.network!.id.slice(0, 12)} -p tcp -m tcp --dport ${side.hostPort} -j DNAT`));
    works(side);
  }
  t.false(linesOf(h, DAEMON_PREFIX).some((line) => line.includes(embedder.network!.id.slice(0, 12))), "the daemon's chains name nothing of the embedder's network");

  // Each restarts in turn: the start's reconcile keeps the other's rules, line for line.
  for (const [restarted, other] of [[embedder, daemon], [daemon, embedder]] as const) {
    const before = { restarted: linesOf(h, restarted.prefix), other: linesOf(h, other.prefix) };
    await restarted.c.kill();
    restarted.c = await startController(t, { netns: h.host.path, root: restarted.c.root, runDir: restarted.c.runDir, ...(restarted === embedder ? { identity: EMBEDDER } : {}) });
    t.deepEqual(linesOf(h, other.prefix), before.other, `${restarted.name}'s restart left ${other.name}'s rules`);
    t.deepEqual(linesOf(h, restarted.prefix).sort(), before.restarted.sort(), `${restarted.name}'s rules came back as they were`);
    works(other);
    works(restarted);
  }

  // The embedder's last network goes, and its shared chains and hooks with it; the daemon's stay.
  const daemonRules = linesOf(h, DAEMON_PREFIX);
  await removeNetwork(embedder);
  t.deepEqual(linesOf(h, EMBEDDER_PREFIX), []);
  t.deepEqual(linesOf(h, DAEMON_PREFIX), daemonRules);
  works(daemon);

  // And the other way round: the daemon's last network goes, the embedder's new one stays.
  await addNetwork(t, embedder, 83);
  const embedderRules = linesOf(h, EMBEDDER_PREFIX);
  await removeNetwork(daemon);
  t.deepEqual(linesOf(h, DAEMON_PREFIX), []);
  t.deepEqual(linesOf(h, EMBEDDER_PREFIX), embedderRules);
  works(embedder);
  await removeNetwork(embedder);
  t.deepEqual(linesOf(h, EMBEDDER_PREFIX), []);
});
