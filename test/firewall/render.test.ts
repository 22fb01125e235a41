// Batch rendering without root: what each option adds, and what removal takes away.
import test from 'ava';
import { chainNames } from '../../src/firewall/chains';
import { renderApply, renderRemove } from '../../src/firewall/render';
import type { NetworkRules } from '../../src/firewall';
import { IPV4, IPV6 } from '../../src/firewall/family';
import { applyLines, parseSave } from '../../src/firewall/state';

const empty = parseSave('');
const daemon = chainNames('NETCTL-');
const base: NetworkRules = { id: '0123456789abcdef', bridge: 'br0', subnets: ['172.18.0.0/16'], icc: true, masquerade: true, internal: false, ports: [] };

/** The state iptables-save would show after applying `lines` to empty tables. */
const stateAfter = (lines: string[]): ReturnType<typeof parseSave> => applyLines(empty, lines);

test('a first network creates the shared chains and hooks, then its own', (t) => {
  const { filter, nat } = renderApply(base, empty, empty, IPV4, daemon);
  t.deepEqual(filter.slice(0, 7), [':NETCTL-USER - [0:0]', ':NETCTL-FORWARD - [0:0]', ':NETCTL-ISOLATION-1 - [0:0]', ':NETCTL-ISOLATION-2 - [0:0]', '-I FORWARD 1 -j NETCTL-USER', '-I FORWARD 2 -j NETCTL-FORWARD', '-I NETCTL-FORWARD 1 -j NETCTL-ISOLATION-1']);
  t.true(filter.includes('-A NETCTL-N-0123456789ab -i br0 ! -o br0 -j ACCEPT'));
  t.true(filter.includes('-A NETCTL-N-0123456789ab ! -i br0 -o br0 -j DROP'));
  t.true(nat.includes('-A NETCTL-M-0123456789ab -s 172.18.0.0/16 ! -o br0 -j MASQUERADE'));
  t.true(nat.includes('-A PREROUTING -m addrtype --dst-type LOCAL -j NETCTL-DNAT'));
});

test('with everything already present only the network chains are refilled', (t) => {
  const first = renderApply(base, empty, empty, IPV4, daemon);
  const again = renderApply(base, stateAfter(first.filter), stateAfter(first.nat), IPV4, daemon);
  t.true(again.filter.every((l) => l.includes('NETCTL-N-0123456789ab')));
  t.true(again.nat.every((l) => l.includes('NETCTL-D-0123456789ab') || l.includes('NETCTL-M-0123456789ab')));
});

test('internal, ICC off, no masquerade and published ports render as Docker users expect', (t) => {
  const internal = renderApply({ ...base, internal: true }, empty, empty, IPV4, daemon);
  t.true(internal.filter.includes('-A NETCTL-N-0123456789ab -i br0 ! -o br0 -j DROP'));
  t.false(internal.nat.some((l) => l.includes('MASQUERADE') || l.includes('DNAT --to')));
  t.true(renderApply({ ...base, icc: false }, empty, empty, IPV4, daemon).filter.includes('-A NETCTL-N-0123456789ab -i br0 -o br0 -j DROP'));
  t.false(renderApply({ ...base, masquerade: false }, empty, empty, IPV4, daemon).nat.some((l) => l.includes('-s 172.18.0.0/16')));
  const ports = renderApply({ ...base, hostBindingIpv4: '192.0.2.1', ports: [{ protocol: 'udp', hostPort: 5353, containerIp: '172.18.0.2', containerPort: 53 }, { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 80, containerIp: '172.18.0.3', containerPort: 8080 }] }, empty, empty, IPV4, daemon);
  t.true(ports.nat.includes('-A NETCTL-D-0123456789ab -d 192.0.2.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 172.18.0.2:53'));
  t.true(ports.nat.includes('-A NETCTL-D-0123456789ab -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.18.0.3:8080'));
  t.true(ports.nat.includes('-A NETCTL-M-0123456789ab -s 172.18.0.0/16 -d 172.18.0.3/32 -p tcp -m tcp --dport 8080 -m conntrack --ctstate DNAT -j MASQUERADE'));
  t.true(ports.filter.includes('-A NETCTL-N-0123456789ab -d 172.18.0.2/32 ! -i br0 -o br0 -p udp -m udp --dport 53 -j ACCEPT'));
});

test('removal takes only the network unless it is the last one', (t) => {
  const a = renderApply(base, empty, empty, IPV4, daemon);
  const b = renderApply({ ...base, id: 'fedcba9876543210', bridge: 'br1' }, stateAfter(a.filter), stateAfter(a.nat), IPV4, daemon);
  const filter = stateAfter([...a.filter, ...b.filter]);
  const nat = stateAfter([...a.nat, ...b.nat]);
  const removeA = renderRemove(base.id, filter, nat, IPV4, daemon);
  t.true(removeA.filter.includes('-D NETCTL-FORWARD -o br0 -j NETCTL-N-0123456789ab'));
  t.true(removeA.filter.includes('-X NETCTL-N-0123456789ab'));
  t.false(removeA.filter.some((l) => l.includes('br1') || l === '-X NETCTL-FORWARD'));
  const onlyA = renderRemove(base.id, stateAfter(a.filter), stateAfter(a.nat), IPV4, daemon);
  t.true(onlyA.filter.includes('-X NETCTL-FORWARD'));
  t.true(onlyA.filter.includes('-X NETCTL-USER'));
  t.true(onlyA.nat.includes('-D POSTROUTING -j NETCTL-POSTROUTING'));
});

test('IPv6 rules use host prefixes of 128, bracketed DNAT targets and ::1 as loopback', (t) => {
  const v6 = renderApply({ ...base, subnets: ['fd00:18::/64'], ports: [{ protocol: 'tcp', hostPort: 80, containerIp: 'fd00:18::2', containerPort: 8080 }] }, empty, empty, IPV6, daemon);
  t.true(v6.nat.includes('-A NETCTL-D-0123456789ab -p tcp -m tcp --dport 80 -j DNAT --to-destination [fd00:18::2]:8080'));
  t.true(v6.nat.includes('-A NETCTL-M-0123456789ab -s fd00:18::/64 ! -o br0 -j MASQUERADE'));
  t.true(v6.nat.includes('-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j NETCTL-DNAT'));
  t.true(v6.filter.includes('-A NETCTL-N-0123456789ab -d fd00:18::2/128 ! -i br0 -o br0 -p tcp -m tcp --dport 8080 -j ACCEPT'));
});

test('the cached state follows a batch as iptables-restore --noflush applies it', (t) => {
  const state = parseSave([':FORWARD ACCEPT [0:0]', ':X - [0:0]', '-A FORWARD -j DOCKER', '-A X -j RETURN', '-A X -j DROP'].join('\n'));
  const after = applyLines(state, ['-I FORWARD 1 -j NETCTL-USER', '-I FORWARD 3 -j LAST', ':X - [0:0]', '-A X -j ACCEPT', ':Y - [0:0]', '-A Y -j DROP', '-D FORWARD -j DOCKER', ':Y - [0:0]', '-X Y']);
  t.deepEqual(after.rules, ['FORWARD -j NETCTL-USER', 'FORWARD -j LAST', 'X -j ACCEPT']);
  t.deepEqual([...after.chains].sort(), ['FORWARD', 'X']);
  t.deepEqual(state.rules, ['FORWARD -j DOCKER', 'X -j RETURN', 'X -j DROP'], 'the state it started from is left as it was');
});
