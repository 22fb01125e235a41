// Chain names per controller prefix, without root: the daemon keeps the names of earlier versions,
// an embedder's are its own and within iptables' limit, bad prefixes are refused, and one prefix's
// batches never name another's chains.
import test from 'ava';
import { chainNames, MAX_CHAIN_PREFIX } from '../../src/firewall/chains';
import { Firewall, InvalidChainPrefixError, type NetworkRules } from '../../src/firewall';
import { type FamilyTraits, IPV4, IPV6 } from '../../src/firewall/family';
import { networksPresent, renderApply, renderRemove } from '../../src/firewall/render';
import { applyLines, emptyTable, type TableState } from '../../src/firewall/state';
import { DAEMON_OWNERSHIP, ownershipOf } from '../../src/kernel/ownership';

const ID = '0123456789abcdef';
const allNames = (prefix: string): string[] => {
  const names = chainNames(prefix);
  return [names.user, names.forward, names.isolation1, names.isolation2, names.dnat, names.postrouting, ...Object.values(names.network(ID))];
};

test("the daemon's chains keep the names earlier versions made, so an upgrade finds its rules", (t) => {
  t.deepEqual(allNames(DAEMON_OWNERSHIP.chainPrefix), ['NETCTL-USER', 'NETCTL-FORWARD', 'NETCTL-ISOLATION-1', 'NETCTL-ISOLATION-2', 'NETCTL-DNAT', 'NETCTL-POSTROUTING', 'NETCTL-N-0123456789ab', 'NETCTL-D-0123456789ab', 'NETCTL-M-0123456789ab']);
});

test("an embedder's chains carry its own prefix and fit iptables' 28 characters", (t) => {
  const prefix = ownershipOf(0x1a2b).chainPrefix;
  t.is(prefix, 'NC1a2b-');
  t.deepEqual(allNames(prefix), ['NC1a2b-USER', 'NC1a2b-FORWARD', 'NC1a2b-ISOLATION-1', 'NC1a2b-ISOLATION-2', 'NC1a2b-DNAT', 'NC1a2b-POSTROUTING', 'NC1a2b-N-0123456789ab', 'NC1a2b-D-0123456789ab', 'NC1a2b-M-0123456789ab']);
  const longest = `${'A'.repeat(MAX_CHAIN_PREFIX - 1)}-`;
  t.true(allNames(longest).every((name) => name.length <= 28));
  t.is(Math.max(...allNames(longest).map((name) => name.length)), 28);
});

test('a prefix that cannot name every chain, or could be read as part of another, is refused with what to do', (t) => {
  for (const bad of ['', '-', 'NC', 'NC1-2-', 'NC_1-', 'ÄB-', `${'A'.repeat(MAX_CHAIN_PREFIX)}-`]) {
    const error = t.throws(() => chainNames(bad), { instanceOf: InvalidChainPrefixError }, bad);
    t.regex(error?.message ?? '', /invalid iptables chain prefix .*: must be 1 to 13 letters or digits followed by "-" \(e\.g\. NC01ab-\), so that every chain name stays within iptables' 28 characters/);
  }
  t.throws(() => chainNames('DOCKER-'), { instanceOf: InvalidChainPrefixError, message: /is Docker's: choose a prefix of your own/ });
  t.throws(() => new Firewall({ chainPrefix: 'MY_ENGINE-' }), { instanceOf: InvalidChainPrefixError });
  t.notThrows(() => new Firewall({ chainPrefix: 'MYENGINE-' }));
});

test("a chain is recognised as a network's only under its own prefix", (t) => {
  const daemon = chainNames('NETCTL-');
  const embedder = chainNames('NC1a2b-');
  t.is(daemon.networkOf('NETCTL-N-0123456789ab'), '0123456789ab');
  t.is(embedder.networkOf('NETCTL-N-0123456789ab'), undefined);
  t.is(chainNames('A-').networkOf('A-N-N-0123456789ab'), undefined);
  t.is(daemon.networkOf('NETCTL-N-USER'), undefined);
});

const net = (id: string, bridge: string, traits: FamilyTraits): NetworkRules => {
  const [subnet, containerIp] = traits === IPV4 ? ['172.18.0.0/16', '172.18.0.2'] : ['fd00:18::/64', 'fd00:18::2'];
  return { id, bridge, subnets: [subnet], icc: true, masquerade: true, internal: false, ports: [{ protocol: 'tcp', hostPort: 80, containerIp, containerPort: 8080 }] };
};

test("one prefix's batches never name another prefix's chains, even when removing its last network", (t) => {
  for (const traits of [IPV4, IPV6]) {
    const daemon = chainNames('NETCTL-');
    const embedder = chainNames('NC1a2b-');
    let filter: TableState = emptyTable();
    let nat: TableState = emptyTable();
    const commit = (batches: { filter: string[]; nat: string[] }): void => {
      filter = applyLines(filter, batches.filter);
      nat = applyLines(nat, batches.nat);
    };
    commit(renderApply(net('aaaaaaaaaaaa01', 'br-d', traits), filter, nat, traits, daemon));
    const embedderBatches = renderApply(net('bbbbbbbbbbbb02', 'br-e', traits), filter, nat, traits, embedder);
    commit(embedderBatches);
    t.deepEqual(networksPresent(filter, daemon), ['aaaaaaaaaaaa']);
    t.deepEqual(networksPresent(filter, embedder), ['bbbbbbbbbbbb']);
    t.true(embedderBatches.filter.includes('-I FORWARD 1 -j NC1a2b-USER'), "the embedder hooks its own USER chain; the daemon's stays");
    const removal = renderRemove('bbbbbbbbbbbb02', filter, nat, traits, embedder);
    const lines = [...removal.filter, ...removal.nat];
    t.true(lines.includes('-X NC1a2b-FORWARD') && lines.includes('-D POSTROUTING -j NC1a2b-POSTROUTING'), 'its last network takes its shared chains');
    t.false(lines.some((line) => line.includes('NETCTL')), lines.join('\n'));
    commit(removal);
    t.false([...filter.chains, ...nat.chains, ...filter.rules, ...nat.rules].some((s) => s.includes('NC1a2b')));
    t.true(filter.rules.includes('FORWARD -j NETCTL-FORWARD') && nat.rules.includes('POSTROUTING -j NETCTL-POSTROUTING') && nat.rules.includes('NETCTL-DNAT -j NETCTL-D-aaaaaaaaaaaa'));
  }
});
