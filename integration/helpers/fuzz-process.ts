// The processes of the gossip fuzz test, each run inside a test host. argv: a role, the address to
// bind, the key in hex or "-" for none, then for "peer" the target's address to join and for
// "fuzz" the target's address, a packet count and a seed. "target" and "peer" run one member on
// the real UDP/TCP transport, print {"ready":"IP:PORT"} once started (a peer once joined) and
// answer "status" on stdin with a JSON line (states, incarnations, addresses, drops); stdin closing ends them.
// "fuzz" sends the packets (see fuzzPacket), prints {"sent":N} and exits.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import readline from 'node:readline';
import { encode, encodeCompound } from '../../src/cluster/codec';
import { encrypt } from '../../src/cluster/crypto';
import { Keyring } from '../../src/cluster/keyring';
import { Membership } from '../../src/cluster/membership';
import { seededRandom } from '../../src/cluster/random';
import { splitAddress, UdpTransport } from '../../src/cluster/udp-transport';

const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 2_000, streamTimeoutMs: 2_000 };
const MAX_DATAGRAM = 65_507;
/** Packets handed to the socket before waiting for them to leave, so the target's buffer keeps up. */
const BURST = 50;

/** Well-formed messages of every kind, the seeds the mutations start from. */
function validMessages(target: string, targetAddress: string): Buffer[] {
  const alive = encode({ type: 'alive', incarnation: 7, node: 'fuzz-ghost', address: '10.77.0.99:7946', meta: Buffer.from('m') });
  const ping = encode({ type: 'ping', seq: 42, target });
  return [
    ping,
    encode({ type: 'indirect-ping', seq: 43, target, targetAddress, wantNack: true }),
    encode({ type: 'ack', seq: 42 }),
    encode({ type: 'nack', seq: 43 }),
    encode({ type: 'suspect', incarnation: 1, node: 'fuzz-ghost', from: 'fuzz' }),
    alive,
    encode({ type: 'dead', incarnation: 1, node: 'fuzz-ghost', from: 'fuzz' }),
    encodeCompound([ping, alive]),
    encode({ type: 'user', payload: crypto.randomBytes(32) }),
  ];
}

/** Well-formed framing that claims far more than follows: 255 compound parts, 2^32-1 push-pull nodes, a 64 KiB field. */
const ABSURD: Buffer[] = [Buffer.of(7, 255, 0xff, 0xff, 1, 2), Buffer.of(8, 0xff, 0xff, 0xff, 0xff, 0), Buffer.of(5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1), Buffer.of(9, 0xff, 0xff)];

/**
 * Packet `i` of a fuzz run, cycling through the kinds: random bytes, a valid message truncated,
 * a valid message with bits flipped, an oversized datagram, and absurd counts. With a key, the
 * mutated and absurd ones are sealed with it first (so they reach the decoder) and some sealed
 * packets are flipped (so they fail authentication).
 */
function fuzzPacket(i: number, random: () => number, valid: Buffer[], key: Buffer | undefined): Buffer {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const seal = (plain: Buffer): Buffer => (key ? encrypt(key, plain) : plain);
  const flip = (packet: Buffer): Buffer => {
    const copy = Buffer.from(packet);
    for (let n = 1 + Math.floor(random() * 4); n > 0; n--) copy[Math.floor(random() * copy.length)]! ^= 1 << Math.floor(random() * 8);
    return copy;
  };
  switch (i % 6) {
    case 0:
      return crypto.randomBytes(Math.floor(random() * 1400));
    case 1: {
      const message = pick(valid);
      return seal(message.subarray(0, Math.floor(random() * message.length)));
    }
    case 2:
      return seal(flip(pick(valid)));
    case 3:
      return crypto.randomBytes(1401 + Math.floor(random() * (MAX_DATAGRAM - 1401)));
    case 4:
      return seal(pick(ABSURD));
    default:
      return key ? flip(seal(pick(valid))) : seal(flip(pick(ABSURD)));
  }
}

async function fuzz(bind: string, to: string, count: number, seed: number, key: Buffer | undefined): Promise<number> {
  const { host, port } = splitAddress(to);
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, bind, resolve));
  const random = seededRandom(seed);
  const valid = validMessages('target', to);
  let sent = 0;
  try {
    for (let i = 0; i < count; i += BURST) {
      const burst = Array.from({ length: Math.min(BURST, count - i) }, (_, j) => fuzzPacket(i + j, random, valid, key));
      await Promise.all(burst.map((packet) => new Promise<void>((resolve) => socket.send(packet, port, host, (error) => {
            if (!error) sent++;
            resolve();
          }))));
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    socket.close();
  }
  return sent;
}

async function main(): Promise<void> {
  const [role, host, keyHex, targetAddress, count, seed] = process.argv.slice(2);
  const key = keyHex && keyHex !== '-' ? Buffer.from(keyHex, 'hex') : undefined;
  if (role === 'fuzz') {
    const sent = await fuzz(host!, targetAddress!, Number(count), Number(seed), key);
    return void process.stdout.write(`${JSON.stringify({ sent })}\n`);
  }
  const transport = await UdpTransport.create({ host: host!, streamTimeoutMs: 2_000 });
  const member = new Membership({ name: role!, transport, keyring: key && new Keyring(key), ...TIMINGS });
  member.start();
  if (role === 'peer') await member.join([targetAddress!]);
  process.stdout.write(`${JSON.stringify({ ready: member.localAddress })}\n`);

  const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'status') {
      const members = member.members();
      return reply({ view: Object.fromEntries(members.map((m) => [m.name, m.state])), incarnations: Object.fromEntries(members.map((m) => [m.name, m.incarnation])), addresses: Object.fromEntries(members.map((m) => [m.name, m.address])), drops: member.drops.snapshot() });
    }
    reply({ error: `unknown command ${line}` });
  });
  process.stdin.on('end', async () => {
    await member.shutdown();
    process.exit(0);
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
