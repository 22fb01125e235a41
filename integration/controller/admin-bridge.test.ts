// A network on an admin's bridge (com.docker.network.bridge.name naming a bridge netctl did not
// make), as Docker allows: used as it is, with its ports and addresses, and kept when the network
// goes; only the gateway address netctl added (marked with IFA_PROTO) goes with it. Containers
// reach a router behind the bridge's uplink; inhibit_ipv4 keeps the gateway off the bridge; a
// restarted daemon keeps the bridge and the admin's ports, and removes veths a crash orphaned there.
import test from 'ava';
import { netctlCli, type Runner } from '../helpers/cli';
import { daemonWithCli, ok } from '../helpers/containers';
import { startDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { DAEMON_OWNERSHIP } from '../../src/kernel/ownership';
import { NetlinkHandle } from '../../src/netlink';

const NETCTL_LINK_GROUP = DAEMON_OWNERSHIP.linkGroup;

interface IpLink {
  ifname: string;
  flags: string[];
  master?: string;
  ifalias?: string;
  group?: string;
  addr_info?: Array<{ local: string; prefixlen: number; scope: string }>;
}

const pingFrom = async (netctl: Runner, name: string, ip: string): Promise<number | null> => (await netctl(['exec', name, '--', 'ping', '-c', '1', '-W', '2', ip])).code;

/** The bridge's global addresses with their IFA_PROTO (iproute2 6.1 does not show it). */
async function addressesOf(ns: TestNamespace, device: string): Promise<Array<[string, number]>> {
  const netlink = NetlinkHandle.open({ netns: ns.path });
  try {
    return (await netlink.addrList({ link: device })).filter((a) => a.scope === 'universe').map((a): [string, number] => [a.address, a.protocol]).sort();
  } finally {
    netlink.close();
  }
}

test("an admin's bridge is used as it is and kept; containers reach the router behind its uplink; refusals", async (t) => {
  t.timeout(120_000);
  const ns = createTestNamespace(t, 'nctl-adm');
  const router = createTestNamespace(t, 'nctl-rtr');
  // The admin's bridge: down, an address of its own, an uplink port to a router in another namespace.
  ns.run('ip', 'link', 'add', 'br-admin', 'type', 'bridge');
  ns.run('ip', 'addr', 'add', '192.0.2.5/24', 'dev', 'br-admin');
  ns.run('ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0-r', 'netns', router.name);
  ns.run('ip', 'link', 'set', 'up0', 'master', 'br-admin');
  ns.run('ip', 'link', 'set', 'up0', 'up');
  router.run('ip', 'addr', 'add', '10.61.0.1/24', 'dev', 'up0-r');
  router.run('ip', 'addr', 'add', '10.63.0.254/24', 'dev', 'up0-r');
  router.run('ip', 'link', 'set', 'up0-r', 'up');
  const { daemon, netctl: first } = await daemonWithCli(t, { netns: ns.path, args: ['--bridge', 'none'] });
  let netctl = first;
  const bridge = (): IpLink => ns.json<IpLink[]>('ip', 'addr', 'show', 'dev', 'br-admin')[0]!;
  const adminOnly: Array<[string, number]> = [['192.0.2.5/24', 0]];

  // Layer 2 onto the admin's segment, the router as the gateway: no address of netctl's on the bridge.
  await ok(netctl, ['network', 'create', '--subnet', '10.61.0.0/24', '--gateway', '10.61.0.1', '-o', 'com.docker.network.bridge.name=br-admin', '-o', 'com.docker.network.bridge.inhibit_ipv4=true', 'lan']);
  t.deepEqual(await addressesOf(ns, 'br-admin'), adminOnly);
  t.true(bridge().flags.includes('UP'), 'brought up');
  t.is(bridge().ifalias, undefined, 'not marked as a bridge of netctl');
  await ok(netctl, ['run', '-d', '--name', 'c1', '--network', 'lan', 'busybox', 'sleep', '300']);
  t.is(await pingFrom(netctl, 'c1', '10.61.0.1'), 0, 'the router, through the uplink');
  t.regex(await ok(netctl, ['exec', 'c1', 'ip', 'route']), /^default via 10\.61\.0\.1 dev eth0/m);

  const refused = async (args: string[], message: RegExp): Promise<void> => {
    const run = await netctl(['network', 'create', '--subnet', '10.62.0.0/24', ...args, 'other']);
    t.not(run.code, 0, args.join(' '));
    t.regex(run.stderr, message);
  };
  await refused(['-o', 'com.docker.network.bridge.name=br-admin'], /cannot use bridge "br-admin": it is the bridge of network [0-9a-f]{12}/);
  await refused(['-o', 'com.docker.network.bridge.name=up0'], /cannot use "up0" as the network's bridge: it is a veth link, not a bridge/);
  await refused(['-o', 'com.docker.network.bridge.inhibit_ipv4=maybe'], /inhibit_ipv4: use true or false/);

  await ok(netctl, ['rm', '-f', 'c1']);
  await ok(netctl, ['network', 'rm', 'lan']);
  t.deepEqual(await addressesOf(ns, 'br-admin'), adminOnly, 'the bridge is kept with its own address');
  t.is(ns.json<IpLink[]>('ip', 'link', 'show', 'dev', 'up0')[0]!.master, 'br-admin', 'and its uplink');

  // Routed: the gateway goes on the bridge, marked as netctl's, and leaves with the network.
  await ok(netctl, ['network', 'create', '--subnet', '10.63.0.0/24', '--gateway', '10.63.0.1', '-o', 'com.docker.network.bridge.name=br-admin', 'routed']);
  t.deepEqual(await addressesOf(ns, 'br-admin'), [['10.63.0.1/24', 110], ...adminOnly]);
  await ok(netctl, ['run', '-d', '--name', 'c2', '--network', 'routed', 'busybox', 'sleep', '300']);
  t.is(await pingFrom(netctl, 'c2', '10.63.0.1'), 0, 'the gateway on the bridge');
  t.is(await pingFrom(netctl, 'c2', '10.63.0.254'), 0, 'a host behind the uplink');

  // An endpoint's veth is in netctl's link group from its creation, as an admin's ports are not.
  const portsOf = (): IpLink[] => ns.json<IpLink[]>('ip', '-d', 'link', 'show', 'master', 'br-admin');
  const [c2Veth, ...others] = portsOf().filter((port) => port.ifname !== 'up0');
  t.deepEqual(others, []);
  t.is(c2Veth!.group, String(NETCTL_LINK_GROUP));

  // A restarted daemon keeps the admin's bridge (not an orphan of netctl's) and its ports, and
  // removes veths an endpoint left there (a crash between the veth and the endpoint's record):
  // one in netctl's group, and one marked by the alias earlier versions set.
  await daemon.stop();
  ns.run('ip', 'addr', 'del', '10.63.0.1/24', 'dev', 'br-admin');
  for (const [name, mark] of [['vethadm', []], ['vethgone', ['alias', `netctl-endpoint:${'cd'.repeat(32)}`]], ['vethab12cd34ef5', ['group', String(NETCTL_LINK_GROUP)]]] as const) {
    ns.run('ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name.slice(0, 12)}-p`);
    ns.run('ip', 'link', 'set', name, 'master', 'br-admin', ...mark);
  }
  const second = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'], root: daemon.root, runDir: daemon.runDir });
  netctl = netctlCli(second.socketPath);
  t.deepEqual(await addressesOf(ns, 'br-admin'), [['10.63.0.1/24', 110], ...adminOnly], 'the lost gateway is put back');
  t.is(await pingFrom(netctl, 'c2', '10.63.0.254'), 0, 'the container still reaches past the uplink');
  t.deepEqual(portsOf().map((port) => port.ifname).sort(), [c2Veth!.ifname, 'up0', 'vethadm'].sort(), "the orphan went; the admin's port and c2's stayed");
  await ok(netctl, ['rm', '-f', 'c2']);
  await ok(netctl, ['network', 'rm', 'routed']);
  t.deepEqual(await addressesOf(ns, 'br-admin'), adminOnly);
  t.is(ns.json<IpLink[]>('ip', 'link', 'show', 'type', 'bridge').length, 1, 'no bridge of netctl was made');
});
