// The gossip queue: bounded retransmissions scaled by cluster size, newer updates about a node
// replacing older ones, and packets filled up to their byte budget.
import test from 'ava';
import { BroadcastQueue, retransmitLimit } from '../../src/cluster/broadcast-queue';

test('the retransmit limit is multiplier × ceil(log10(n + 1))', (t) => {
  t.is(retransmitLimit(4, 1), 4);
  t.is(retransmitLimit(4, 9), 4);
  t.is(retransmitLimit(4, 10), 8);
  t.is(retransmitLimit(3, 100), 9);
});

test('an update is sent exactly limit times, then reported done', (t) => {
  const queue = new BroadcastQueue(2, () => 5); // limit 2
  let done = 0;
  queue.queue('a', Buffer.from('A'), () => done++);
  t.deepEqual(queue.take(0, 100), [Buffer.from('A')]);
  t.is(done, 0);
  t.deepEqual(queue.take(0, 100), [Buffer.from('A')]);
  t.is(done, 1);
  t.deepEqual(queue.take(0, 100), []);
});

test('a newer update about the same node replaces the queued one', (t) => {
  const queue = new BroadcastQueue(3, () => 3);
  let replaced = false;
  queue.queue('node-1', Buffer.from('suspect'), () => (replaced = true));
  queue.queue('node-2', Buffer.from('other'));
  queue.queue('node-1', Buffer.from('alive'));
  t.true(replaced);
  t.is(queue.length, 2);
  t.deepEqual(queue.take(0, 100), [Buffer.from('other'), Buffer.from('alive')]);
});

test('fewest-sent first, within the byte budget with per-message overhead and a count cap', (t) => {
  const queue = new BroadcastQueue(10, () => 3);
  queue.queue('a', Buffer.alloc(10, 1));
  t.is(queue.take(2, 100).length, 1); // a sent once
  queue.queue('b', Buffer.alloc(10, 2));
  queue.queue('c', Buffer.alloc(30, 3));
  // Budget 26: b (12) fits, c (32) does not, a (12) fits after b.
  t.deepEqual(queue.take(2, 26), [Buffer.alloc(10, 2), Buffer.alloc(10, 1)]);
  t.deepEqual(queue.take(2, 100), [Buffer.alloc(30, 3), Buffer.alloc(10, 2)].slice(0, 2).concat([Buffer.alloc(10, 1)]));
  t.is(queue.take(0, 1000, 1).length, 1);
});
