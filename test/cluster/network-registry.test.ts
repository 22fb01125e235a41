// The registry's count of nodes on a network, kept as events arrive, against a count of its records.
import test from 'ava';
import fc from 'fast-check';
import { NetworkRegistry } from '../../src/cluster/network-registry';

test('countOn matches the nodes listed on each network through joins, leaves, forgets and reaps', (t) => {
  const node = fc.constantFrom('a', 'b', 'c', 'd');
  const network = fc.constantFrom('n1', 'n2');
  const operation = fc.oneof(
    fc.record({ op: fc.constant('apply' as const), node, network, ltime: fc.integer({ min: 1, max: 20 }), leaving: fc.boolean() }),
    fc.record({ op: fc.constant('forget' as const), node }),
    fc.record({ op: fc.constant('reap' as const), afterMs: fc.integer({ min: 0, max: 50 }) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 100 }), (operations) => {
      const registry = new NetworkRegistry();
      operations.forEach((operation, now) => {
        if (operation.op === 'apply') registry.apply({ node: operation.node, network: operation.network, ltime: operation.ltime, leaving: operation.leaving }, now);
        else if (operation.op === 'forget') registry.forgetNode(operation.node);
        else registry.reap(now, operation.afterMs);
        for (const name of ['n1', 'n2']) t.is(registry.countOn(name), registry.nodesOf(name).length);
      });
    }),
  );
});
