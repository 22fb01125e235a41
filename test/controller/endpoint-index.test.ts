// The endpoints in memory by ID, network and sandbox: pure.
import test from 'ava';
import { EndpointIndex } from '../../src/controller/endpoint-index';
import type { EndpointRecord } from '../../src/controller/endpoint-record';

const endpoint = (id: string, networkId: string, sandboxId: string, created: string): EndpointRecord => ({ id, name: id, networkId, sandboxId, ifname: '', mac: '', aliases: [], created });

test('endpoints are found by ID, by network and by sandbox in connect order, and forgotten', (t) => {
  const index = new EndpointIndex();
  const a = endpoint('a', 'n1', 's1', '2024-01-01T00:00:02.000Z');
  const b = endpoint('b', 'n2', 's1', '2024-01-01T00:00:01.000Z');
  const c = endpoint('c', 'n1', 's2', '2024-01-01T00:00:01.000Z');
  // Same instant: the ID decides, so the order never depends on insertion.
  const d = endpoint('0d', 'n3', 's1', '2024-01-01T00:00:01.000Z');
  for (const e of [a, b, c, d]) index.track(e);
  t.is(index.get('a'), a);
  t.deepEqual(index.ofNetwork('n1').map((e) => e.id).sort(), ['a', 'c']);
  t.deepEqual(index.ofSandbox('s1').map((e) => e.id), ['0d', 'b', 'a']);
  t.deepEqual(index.ofSandbox('none'), []);
  index.untrack(b);
  t.is(index.get('b'), undefined);
  t.deepEqual(index.ofSandbox('s1').map((e) => e.id), ['0d', 'a']);
  index.untrack(c);
  t.deepEqual(index.ofSandbox('s2'), []);
  t.deepEqual([...index.all()].map((e) => e.id).sort(), ['0d', 'a']);
});
