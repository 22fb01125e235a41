// The gossip queue: bounded retransmissions scaled by cluster size, newer updates about a node
// replacing older ones, and packets filled up to their byte budget.
import test from 'ava';
import fc from 'fast-check';
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

test('a newer update invalidates the older one wherever it stands in the order', (t) => {
  const queue = new BroadcastQueue(4, () => 9); // limit 4
  queue.queue('a', Buffer.from('a1'));
  queue.queue('b', Buffer.from('b1'));
  t.deepEqual(queue.take(0, 100, 1), [Buffer.from('a1')]); // a1 sent once
  queue.queue('a', Buffer.from('a2'));
  // a2 starts over at zero sends, behind b1 (older); a1 is gone.
  t.deepEqual(queue.take(0, 100), [Buffer.from('b1'), Buffer.from('a2')]);
  t.is(queue.length, 2);
});

/** The queue as it was (a stable sort per take, linear scans): the reference the ordered one must match. */
class ReferenceQueue {
  items: { key: string; payload: Buffer; transmits: number; onDone: () => void }[] = [];
  constructor(
    private readonly multiplier: number,
    private readonly clusterSize: () => number,
  ) {}
  queue(key: string, payload: Buffer, onDone: () => void): void {
    const replaced = this.items.filter((item) => item.key === key);
    this.items = this.items.filter((item) => item.key !== key);
    for (const item of replaced) item.onDone();
    this.items.push({ key, payload, transmits: 0, onDone });
  }
  take(overhead: number, budget: number, maxCount: number): Buffer[] {
    const limit = retransmitLimit(this.multiplier, this.clusterSize());
    const taken: Buffer[] = [];
    let used = 0;
    for (const item of [...this.items].sort((a, b) => a.transmits - b.transmits)) {
      const size = item.payload.length + overhead;
      if (taken.length >= maxCount) break;
      if (used + size > budget) continue;
      used += size;
      taken.push(item.payload);
      item.transmits++;
      if (item.transmits >= limit) {
        this.items = this.items.filter((other) => other !== item);
        item.onDone();
      }
    }
    return taken;
  }
}

test('takes, replacements and completions match the linear queue for any sequence of calls', (t) => {
  const operation = fc.oneof(
    fc.record({ op: fc.constant('queue' as const), key: fc.integer({ min: 0, max: 12 }), size: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ op: fc.constant('take' as const), overhead: fc.integer({ min: 0, max: 4 }), budget: fc.integer({ min: 0, max: 200 }), maxCount: fc.integer({ min: 0, max: 8 }) }),
    fc.record({ op: fc.constant('resize' as const), size: fc.integer({ min: 1, max: 2000 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.array(operation, { maxLength: 300 }), (multiplier, operations) => {
      let clusterSize = 5;
      const queue = new BroadcastQueue(multiplier, () => clusterSize);
      const reference = new ReferenceQueue(multiplier, () => clusterSize);
      const done: string[] = [];
      const referenceDone: string[] = [];
      let serial = 0;
      for (const operation of operations) {
        if (operation.op === 'queue') {
          const payload = Buffer.alloc(operation.size, serial % 256);
          const id = `${operation.key}#${serial++}`;
          queue.queue(String(operation.key), payload, () => done.push(id));
          reference.queue(String(operation.key), payload, () => referenceDone.push(id));
        } else if (operation.op === 'take') {
          t.deepEqual(queue.take(operation.overhead, operation.budget, operation.maxCount), reference.take(operation.overhead, operation.budget, operation.maxCount));
        } else {
          clusterSize = operation.size;
        }
        t.is(queue.length, reference.items.length);
      }
      t.deepEqual(done, referenceDone);
    }),
    { numRuns: 300 },
  );
});

test('20,000 queued updates drain in bounded time (each take is O(log n), not a sort of the queue)', (t) => {
  const members = 20_000;
  const queue = new BroadcastQueue(4, () => members); // limit 20
  for (let i = 0; i < members; i++) queue.queue(`node-${i}`, Buffer.alloc(40 + (i % 20)));
  let packets = 0;
  const started = process.hrtime.bigint();
  while (queue.length > 0) {
    t.true(queue.take(2, 1400, 255).length > 0);
    packets++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // 400,000 transmissions of 42 to 61 bytes: about 25 a packet.
  t.true(packets > 12_000 && packets < 20_000, `${packets} packets`);
  // A sort of the queue per take needed 54 s here, this queue 2 s.
  t.true(seconds < 8, `drained in ${seconds.toFixed(1)} s`);
});
