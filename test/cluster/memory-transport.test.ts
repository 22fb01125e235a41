// The in-memory network tests run on: latency, loss and partitions per link, streams that time
// out in a partition, all on virtual time and the same for the same seed.
import test from 'ava';
import { MemoryNetwork } from '../../src/cluster/memory-transport';
import { TransportError } from '../../src/cluster/transport';
import { VirtualClock } from '../../src/cluster/virtual-clock';

function pair(seed = 1) {
  const clock = new VirtualClock();
  const network = new MemoryNetwork(clock, seed, 200);
  const a = network.createTransport('a:1');
  const b = network.createTransport('b:1');
  const received: { at: number; text: string; from: string }[] = [];
  b.onPacket((packet, from) => received.push({ at: clock.now(), text: packet.toString(), from }));
  return { clock, network, a, b, received };
}

test('packets arrive after the link latency, with the sender address', async (t) => {
  const { clock, network, a, received } = pair();
  network.setLink('a:1', 'b:1', { latencyMs: 30 });
  a.sendPacket('b:1', Buffer.from('x'));
  await clock.advance(29);
  t.deepEqual(received, []);
  await clock.advance(1);
  t.deepEqual(received, [{ at: 30, text: 'x', from: 'a:1' }]);
});

test('loss drops about its share of packets, the same ones for the same seed', async (t) => {
  const run = async (seed: number): Promise<string[]> => {
    const { clock, network, a, received } = pair(seed);
    network.setLink('a:1', 'b:1', { loss: 0.3 });
    for (let i = 0; i < 1000; i++) a.sendPacket('b:1', Buffer.from(String(i)));
    await clock.advance(10);
    return received.map((r) => r.text);
  };
  const first = await run(5);
  t.true(first.length > 620 && first.length < 780, `${first.length} of 1000 arrived`);
  t.deepEqual(await run(5), first);
  t.notDeepEqual(await run(6), first);
});

test('a partition blocks packets both ways and makes streams time out; healing restores both', async (t) => {
  const { clock, network, a, b, received } = pair();
  b.onStream((request) => Buffer.concat([Buffer.from('re:'), request]));
  network.partition('a:1', 'b:1');
  a.sendPacket('b:1', Buffer.from('lost'));
  const timedOut = a.exchange('b:1', Buffer.from('q'), 500).catch((e: TransportError) => e);
  await clock.advance(1000);
  t.deepEqual(received, []);
  t.is(((await timedOut) as TransportError).code, 'timeout');
  network.partition('a:1', 'b:1', false);
  const answered = a.exchange('b:1', Buffer.from('q'), 500);
  await clock.advance(10);
  t.deepEqual(await answered, Buffer.from('re:q'));
});

test('nothing at an address refuses a stream; a closed transport stops receiving', async (t) => {
  const { clock, a, b, received } = pair();
  const refused = a.exchange('nowhere:1', Buffer.from('q'), 500).catch((e: TransportError) => e);
  await clock.advance(10);
  t.is(((await refused) as TransportError).code, 'refused');
  await b.close();
  a.sendPacket('b:1', Buffer.from('x'));
  await clock.advance(10);
  t.deepEqual(received, []);
  t.throws(() => a.sendPacket('b:1', Buffer.alloc(201)), { instanceOf: TransportError });
});
