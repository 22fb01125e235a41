// Cutting length-prefixed records out of a byte stream, as TCP and pipes deliver it: split
// anywhere, several to a chunk. Both users' framings: DNS over TCP and Docker's log stream.
import test from 'ava';
import { FrameReader, frame } from '../../src/api/stream';
import { MessageReader, withLength } from '../../src/dns/tcp-framing';

const bodies = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];

function chunksOf(stream: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

for (const sizes of [[1], [3, 1, 8], [65_536], [1_000_000]]) {
  test(`DNS messages come out whole and in order from chunks of ${sizes.join('/')} bytes`, (t) => {
    // 70,000 bytes does not fit DNS's two-byte length, so the DNS case uses what fits.
    const messages = bodies.map((body) => body.subarray(0, 65_535));
    const reader = new MessageReader();
    const out = chunksOf(Buffer.concat(messages.map(withLength)), sizes).flatMap((chunk) => reader.push(chunk));
    t.deepEqual(out, messages);
  });

  test(`log frames come out whole, stream and data, from chunks of ${sizes.join('/')} bytes`, (t) => {
    const sent = bodies.map((data, i) => ({ stream: i % 2 === 0 ? 1 : 2, data }));
    const reader = new FrameReader();
    const stream = Buffer.concat(sent.map(({ stream, data }) => frame(stream as 1 | 2, data)));
    const out = chunksOf(stream, sizes).flatMap((chunk) => reader.push(chunk));
    t.deepEqual(out.map(({ stream, data }) => ({ stream, data })), sent);
    t.deepEqual(Buffer.concat(out.map((f) => f.raw)), stream);
  });
}

test('a record cut short stays pending until the rest arrives', (t) => {
  const reader = new MessageReader();
  const whole = withLength(Buffer.from('abcdef'));
  t.deepEqual(reader.push(whole.subarray(0, 1)), []);
  t.deepEqual(reader.push(whole.subarray(1, 5)), []);
  t.deepEqual(reader.push(whole.subarray(5)), [Buffer.from('abcdef')]);
});
