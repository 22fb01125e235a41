// Which controller a link's marks give it to, without root: the aliases of earlier daemons are the
// daemon's only on links no controller's group marks (every controller still sets them).
import test from 'ava';
import { DAEMON_OWNERSHIP, legacyMarked, madeBy, ownershipOf } from '../../src/kernel/ownership';
import type { Link } from '../../src/netlink';

const bridge = (group: number): Link => ({ name: 'br-0123456789ab', kind: 'bridge', alias: 'netctl-network:0123456789abcdef', group }) as Link;
const isNetworkAlias = (alias: string): boolean => alias.startsWith('netctl-network:');
const embedder = ownershipOf(0x1a2b);

test("an earlier daemon's bridge (alias, no group) is the daemon's and no embedder's", (t) => {
  t.true(legacyMarked(bridge(0), DAEMON_OWNERSHIP, isNetworkAlias));
  t.false(legacyMarked(bridge(0), embedder, isNetworkAlias));
});

test("an embedder's bridge carries the same alias but stays the embedder's", (t) => {
  const made = bridge(embedder.linkGroup);
  t.true(madeBy(made, embedder));
  t.false(madeBy(made, DAEMON_OWNERSHIP) || legacyMarked(made, DAEMON_OWNERSHIP, isNetworkAlias));
});
