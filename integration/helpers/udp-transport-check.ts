// Exercises the UDP/TCP transport's bounds inside a test host (`nsenter --net=...`, lo up) and
// prints one JSON object with what each case gave, for integration/cluster to assert on.
import dgram from 'node:dgram';
import net from 'node:net';
import { TransportError } from '../../src/cluster/transport';
import { UdpTransport } from '../../src/cluster/udp-transport';

const outcome = async (fn: () => Promise<unknown>): Promise<{ ok: unknown } | { code: string; ms: number }> => {
  const start = Date.now();
  try {
    return { ok: await fn() };
  } catch (error) {
    return { code: error instanceof TransportError ? error.code : `other: ${String(error)}`, ms: Date.now() - start };
  }
};

async function main(): Promise<void> {
  const a = await UdpTransport.create({ host: '127.0.0.1', maxPacketSize: 512, maxStreamBytes: 1000, streamTimeoutMs: 300 });
  const b = await UdpTransport.create({ host: '127.0.0.1', maxPacketSize: 512, maxStreamBytes: 1000, streamTimeoutMs: 300 });
  const result: Record<string, unknown> = { a: a.localAddress, b: b.localAddress };

  const received = new Promise<{ text: string; from: string }>((resolve) => b.onPacket((packet, from) => resolve({ text: packet.toString(), from })));
  a.sendPacket(b.localAddress, Buffer.from('hello'));
  result.packet = await received;
  result.oversizedSend = await outcome(async () => a.sendPacket(b.localAddress, Buffer.alloc(513)));

  b.onStream((request) => (request.toString() === 'big' ? Buffer.alloc(2000) : request.toString() === 'none' ? undefined : Buffer.concat([Buffer.from('echo:'), request])));
  result.exchange = await outcome(async () => (await a.exchange(b.localAddress, Buffer.from('hi'), 1000)).toString());
  result.answerTooLarge = await outcome(() => a.exchange(b.localAddress, Buffer.from('big'), 1000));
  result.noAnswer = await outcome(() => a.exchange(b.localAddress, Buffer.from('none'), 1000));
  result.requestTooLarge = await outcome(() => a.exchange(b.localAddress, Buffer.alloc(1001), 1000));

  // A server that accepts and never answers: the exchange ends at its timeout.
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  result.silentServer = await outcome(() => a.exchange(`127.0.0.1:${(silent.address() as net.AddressInfo).port}`, Buffer.from('x'), 400));
  silent.close();

  // Nothing listens on a closed transport's port.
  const gone = await UdpTransport.create({ host: '127.0.0.1' });
  const goneAddress = gone.localAddress;
  await gone.close();
  result.refused = await outcome(() => a.exchange(goneAddress, Buffer.from('x'), 1000));

  // A client that connects and sends nothing is cut off after streamTimeoutMs.
  const [host, port] = [b.localAddress.split(':')[0]!, Number(b.localAddress.split(':')[1])];
  const start = Date.now();
  result.idleClientClosedAfterMs = await new Promise<number>((resolve) => {
    const idle = net.connect({ host, port });
    idle.on('close', () => resolve(Date.now() - start)).on('error', () => {});
  });

  // A request trickled in: the header a byte at a time, the body in three parts, written 15 ms apart (most arrive alone).
  result.trickled = await new Promise<string>((resolve, reject) => {
    const body = Buffer.from('slow-request');
    const parts = [Buffer.of(0), Buffer.of(0), Buffer.of(0), Buffer.of(body.length), body.subarray(0, 4), body.subarray(4, 8), body.subarray(8)];
    const answer: Buffer[] = [];
    const peer = net.connect({ host, port, noDelay: true }, () => {
      const next = (i: number): void => {
        if (i < parts.length) peer.write(parts[i]!, () => setTimeout(() => next(i + 1), 15));
      };
      next(0);
    });
    peer.on('data', (chunk: Buffer) => answer.push(chunk)).on('end', () => resolve(Buffer.concat(answer).subarray(4).toString())).on('error', reject);
  });

  // Peers that send a request and reset before the answer: the write fails, and only their stream ends.
  b.onStream(() => Buffer.alloc(900));
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve) => {
      const peer = net.connect({ host, port }, () => peer.write(Buffer.from([0, 0, 0, 2, 0x68, 0x69]), () => resolve(void peer.resetAndDestroy())));
      peer.on('error', () => resolve());
    });
  }
  result.survivedResets = await outcome(async () => (await a.exchange(b.localAddress, Buffer.from('after'), 1000)).length);

  // UDP and TCP share the port; the TCP side is really there.
  const udp = dgram.createSocket('udp4');
  result.udpPortTaken = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(true));
    udp.bind(port, host, () => resolve(false));
  });
  udp.close();

  await a.close();
  await b.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
