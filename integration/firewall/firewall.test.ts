// The firewall in a test host: rules as iptables-save shows them, idempotence, per-network
// independence, clean removal, and real traffic (isolation, ICC, internal, NAT, published ports).
import test from 'ava';
import { Firewall, FirewallError, InvalidRuleError, type NetworkRules } from '../../src/firewall';
import { IPV4 } from '../../src/firewall/family';
import { applyBatches } from '../../src/firewall/iptables';
import { buildHost, enableBridgeNetfilter, pings, tcpConnect, tcpEcho } from './topology';
import { createTestNamespace } from '../helpers/netns';

const netA = (over: Partial<NetworkRules> = {}): NetworkRules => ({ id: 'aaaaaaaaaaaa0001', bridge: 'br-a', subnets: ['10.61.0.0/24'], icc: true, masquerade: true, internal: false, ports: [], ...over });
const netB = (over: Partial<NetworkRules> = {}): NetworkRules => ({ id: 'bbbbbbbbbbbb0002', bridge: 'br-b', subnets: ['10.62.0.0/24'], icc: true, masquerade: true, internal: false, ports: [], ...over });

test('rules land in netctl chains, applying twice changes nothing, and a second network leaves the first untouched', async (t) => {
  const ns = createTestNamespace(t, 'nctl-fw');
  const firewall = new Firewall({ netns: ns.path });
  await firewall.applyNetwork(netA({ ports: [{ protocol: 'tcp', hostPort: 8080, containerIp: '10.61.0.2', containerPort: 80 }] }));
  const once = ns.run('iptables-save');
  t.regex(once, /^-A FORWARD -j NETCTL-USER$/m);
  t.regex(once, /^-A FORWARD -j NETCTL-FORWARD$/m);
  t.regex(once, /^-A NETCTL-FORWARD -o br-a -j NETCTL-N-aaaaaaaaaaaa$/m);
  t.regex(once, /^-A NETCTL-ISOLATION-2 -o br-a -j DROP$/m);
  t.regex(once, /^-A NETCTL-M-aaaaaaaaaaaa -s 10\.61\.0\.0\/24 ! -o br-a -j MASQUERADE$/m);
  t.regex(once, /^-A NETCTL-D-aaaaaaaaaaaa -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.61\.0\.2:80$/m);
  await firewall.applyNetwork(netA({ ports: [{ protocol: 'tcp', hostPort: 8080, containerIp: '10.61.0.2', containerPort: 80 }] }));
  const strip = (save: string): string => save.replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
  t.is(strip(ns.run('iptables-save')), strip(once));

  const chainOf = (save: string, chain: string): string => save.split('\n').filter((l) => l.startsWith(`-A ${chain} `)).join('\n');
  const before = chainOf(once, 'NETCTL-N-aaaaaaaaaaaa');
  await firewall.applyNetwork(netB());
  const after = ns.run('iptables-save');
  t.is(chainOf(after, 'NETCTL-N-aaaaaaaaaaaa'), before);
  t.regex(after, /^-A NETCTL-ISOLATION-1 -i br-b ! -o br-b -j NETCTL-ISOLATION-2$/m);

  await firewall.removeNetwork(netA().id);
  t.notRegex(ns.run('iptables-save'), /aaaaaaaaaaaa|br-a/);
  t.regex(ns.run('iptables-save'), /NETCTL-N-bbbbbbbbbbbb/);
  await firewall.removeNetwork(netB().id);
  t.notRegex(ns.run('iptables-save'), /NETCTL/);
});

test('the administrator\'s NETCTL-USER rules survive, and keep their chain after the last network goes', async (t) => {
  const ns = createTestNamespace(t, 'nctl-fw');
  const firewall = new Firewall({ netns: ns.path });
  await firewall.applyNetwork(netA());
  ns.run('iptables', '-A', 'NETCTL-USER', '-s', '198.51.100.0/24', '-j', 'DROP');
  await firewall.applyNetwork(netB());
  await firewall.removeNetwork(netA().id);
  await firewall.removeNetwork(netB().id);
  const save = ns.run('iptables-save');
  t.regex(save, /^-A NETCTL-USER -s 198\.51\.100\.0\/24 -j DROP$/m);
  t.regex(save, /^-A FORWARD -j NETCTL-USER$/m);
  t.notRegex(save, /NETCTL-(FORWARD|ISOLATION|N-|D-|M-|DNAT|POSTROUTING)/);
  ns.run('iptables', '-D', 'FORWARD', '-j', 'NETCTL-USER');
  ns.run('iptables', '-F', 'NETCTL-USER');
  ns.run('iptables', '-X', 'NETCTL-USER');
});

test('reconcile re-adds missing networks and removes chains no network owns', async (t) => {
  const ns = createTestNamespace(t, 'nctl-fw');
  const firewall = new Firewall({ netns: ns.path });
  await firewall.applyNetwork(netA());
  await firewall.applyNetwork(netB());
  await firewall.reconcile([netB()]);
  const save = ns.run('iptables-save');
  t.notRegex(save, /aaaaaaaaaaaa/);
  t.regex(save, /NETCTL-N-bbbbbbbbbbbb/);
  await firewall.reconcile([]);
  t.notRegex(ns.run('iptables-save'), /NETCTL/);
});

test('bad input is refused before anything is applied; a refused batch changes nothing', async (t) => {
  const ns = createTestNamespace(t, 'nctl-fw');
  const firewall = new Firewall({ netns: ns.path });
  await t.throwsAsync(firewall.applyNetwork(netA({ bridge: 'a-bridge-name-too-long' })), { instanceOf: InvalidRuleError, message: /bridge name/ });
  await t.throwsAsync(firewall.applyNetwork(netA({ ports: [{ protocol: 'tcp', hostPort: 70000, containerIp: '10.61.0.2', containerPort: 80 }] })), { instanceOf: InvalidRuleError, message: /host port/ });
  await t.throwsAsync(firewall.applyNetwork(netA({ subnets: ['10.61.0.0/33'] })), { instanceOf: InvalidRuleError });
  t.notRegex(ns.run('iptables-save'), /NETCTL/);
  const error = await t.throwsAsync(applyBatches({ netns: ns.path }, IPV4, { filter: [':NETCTL-N-cccccccccccc - [0:0]', '-A NETCTL-N-cccccccccccc -j NO-SUCH-CHAIN'], nat: [] }), { instanceOf: FirewallError });
  t.regex(error?.message ?? '', /iptables refused the filter table batch at ".+": .*NO-SUCH-CHAIN/);
  t.notRegex(ns.run('iptables-save'), /NETCTL/);
});

test('traffic: isolation between networks, gateway and outside reachable through NAT, internal networks stay in', async (t) => {
  const h = buildHost(t);
  h.addBridge('br-a', '10.61.0.1/24');
  h.addBridge('br-b', '10.62.0.1/24');
  h.addBridge('br-i', '10.63.0.1/24');
  const a1 = h.addContainer('br-a', '10.61.0.2/24', '10.61.0.1');
  const b1 = h.addContainer('br-b', '10.62.0.2/24', '10.62.0.1');
  const i1 = h.addContainer('br-i', '10.63.0.2/24', '10.63.0.1');
  // Before netctl's rules: plain forwarding lets a container reach the other network.
  t.true(pings(a1, '10.62.0.2'));
  const firewall = new Firewall({ netns: h.host.path });
  await firewall.applyNetwork(netA());
  await firewall.applyNetwork(netB());
  await firewall.applyNetwork({ id: 'cccccccccccc0003', bridge: 'br-i', subnets: ['10.63.0.0/24'], icc: true, masquerade: true, internal: true, ports: [] });
  t.true(pings(a1, '10.61.0.1'));
  t.false(pings(a1, '10.62.0.2', 1));
  t.false(pings(b1, '10.61.0.2', 1));
  // The outside has no route to 10.61.0.0/24: a reply proves the source was masqueraded.
  t.true(pings(a1, '192.0.2.2'));
  await tcpEcho(t, h.outside, 7000);
  t.is(tcpConnect(a1, '192.0.2.2', 7000), '192.0.2.1');
  t.true(pings(i1, '10.63.0.1'));
  t.false(pings(i1, '192.0.2.2', 1));
  await firewall.removeNetwork(netB().id);
  t.true(pings(a1, '10.62.0.2'), 'isolation goes with the network');
});

test('traffic: a published port reaches the container from outside, and hairpins from inside', async (t) => {
  const h = buildHost(t);
  h.addBridge('br-a', '10.61.0.1/24');
  const web = h.addContainer('br-a', '10.61.0.2/24', '10.61.0.1');
  const client = h.addContainer('br-a', '10.61.0.3/24', '10.61.0.1');
  await tcpEcho(t, web, 80);
  const firewall = new Firewall({ netns: h.host.path });
  await firewall.applyNetwork(netA());
  t.is(tcpConnect(h.outside, h.uplinkIp, 8080), '', 'nothing is published yet');
  t.is(tcpConnect(h.outside, '10.61.0.2', 80), '', 'unpublished ports are closed to the outside');
  await firewall.applyNetwork(netA({ ports: [{ protocol: 'tcp', hostPort: 8080, containerIp: '10.61.0.2', containerPort: 80 }] }));
  t.is(tcpConnect(h.outside, h.uplinkIp, 8080), '192.0.2.2');
  t.not(tcpConnect(client, h.uplinkIp, 8080), '');
  t.not(tcpConnect(web, h.uplinkIp, 8080), '', 'a container reaches its own published port');
});

test('traffic: ICC off blocks containers of one network from each other (bridge netfilter)', async (t) => {
  const h = buildHost(t);
  enableBridgeNetfilter(t, h.host);
  h.addBridge('br-a', '10.61.0.1/24');
  const a1 = h.addContainer('br-a', '10.61.0.2/24', '10.61.0.1');
  h.addContainer('br-a', '10.61.0.3/24', '10.61.0.1');
  const firewall = new Firewall({ netns: h.host.path });
  await firewall.applyNetwork(netA());
  t.true(pings(a1, '10.61.0.3'));
  await firewall.applyNetwork(netA({ icc: false }));
  t.false(pings(a1, '10.61.0.3', 1));
  t.true(pings(a1, '10.61.0.1'));
});

test('dual stack: ip6tables carries the same chains; IPv6 isolation, NAT66 and removal with real traffic', async (t) => {
  const h = buildHost(t);
  h.host.run('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
  h.host.run('ip', '-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'uplink', 'nodad');
  h.outside.run('ip', '-6', 'addr', 'add', '2001:db8::2/64', 'dev', 'eth0', 'nodad');
  h.addBridge('br-a', '10.61.0.1/24');
  h.addBridge('br-b', '10.62.0.1/24');
  h.host.run('ip', '-6', 'addr', 'add', 'fd00:61::1/64', 'dev', 'br-a', 'nodad');
  h.host.run('ip', '-6', 'addr', 'add', 'fd00:62::1/64', 'dev', 'br-b', 'nodad');
  const a1 = h.addContainer('br-a', '10.61.0.2/24', '10.61.0.1');
  const b1 = h.addContainer('br-b', '10.62.0.2/24', '10.62.0.1');
  for (const [c, address, gateway] of [[a1, 'fd00:61::2/64', 'fd00:61::1'], [b1, 'fd00:62::2/64', 'fd00:62::1']] as const) {
    c.run('ip', '-6', 'addr', 'add', address, 'dev', 'eth0', 'nodad');
    c.run('ip', '-6', 'route', 'add', 'default', 'via', gateway);
  }
  t.true(pings(a1, 'fd00:62::2'), 'plain IPv6 forwarding connects the networks before netctl');
  t.false(pings(a1, '2001:db8::2', 1), 'the outside has no route back to fd00:61::/64');

  const firewall = new Firewall({ netns: h.host.path });
  await firewall.applyNetwork(netA({ subnets: ['10.61.0.0/24', 'fd00:61::/64'] }));
  await firewall.applyNetwork(netB({ subnets: ['10.62.0.0/24', 'fd00:62::/64'] }));
  const save6 = h.host.run('ip6tables-save');
  t.regex(save6, /^-A NETCTL-ISOLATION-2 -o br-a -j DROP$/m);
  t.regex(save6, /^-A NETCTL-M-aaaaaaaaaaaa -s fd00:61::\/64 ! -o br-a -j MASQUERADE$/m);
  t.notRegex(h.host.run('iptables-save'), /fd00/, 'IPv4 tables carry no IPv6 subnet');
  t.false(pings(a1, 'fd00:62::2', 1));
  t.true(pings(a1, '2001:db8::2'), 'masqueraded behind the host');
  t.true(pings(a1, '10.61.0.1'));

  // A network that drops IPv6 takes its ip6tables rules along and keeps the IPv4 ones.
  await firewall.applyNetwork(netB());
  t.notRegex(h.host.run('ip6tables-save'), /bbbbbbbbbbbb|br-b/);
  t.regex(h.host.run('iptables-save'), /NETCTL-N-bbbbbbbbbbbb/);
  await firewall.removeNetwork(netA().id);
  await firewall.removeNetwork(netB().id);
  t.notRegex(h.host.run('ip6tables-save'), /NETCTL/);
  t.notRegex(h.host.run('iptables-save'), /NETCTL/);
});

test('a stale view is repaired: chains removed behind netctl\'s back are rebuilt by the next change', async (t) => {
  const ns = createTestNamespace(t, 'nctl-fw');
  const firewall = new Firewall({ netns: ns.path });
  await firewall.applyNetwork(netA());
  // An admin (or a firewall reload) wipes the tables netctl last wrote.
  ns.run('iptables', '-F');
  ns.run('iptables', '-X');
  ns.run('iptables', '-t', 'nat', '-F');
  ns.run('iptables', '-t', 'nat', '-X');
  await firewall.applyNetwork(netB());
  const save = ns.run('iptables-save');
  t.regex(save, /^-A FORWARD -j NETCTL-FORWARD$/m);
  t.regex(save, /^-A NETCTL-FORWARD -o br-b -j NETCTL-N-bbbbbbbbbbbb$/m);
  await firewall.removeNetwork(netB().id);
  t.notRegex(ns.run('iptables-save'), /NETCTL/);
});
