// Cluster members on the real UDP/TCP transport for tests, run inside a test host
// (`nsenter --net=...`) and bound to its 127.0.0.1 with ephemeral ports. argv: member count and
// the shared key in hex. Prints {"ready":[addresses]} once all joined through member 0, then
// answers one JSON line per stdin command: "status", "kill I" (stop without leave), "leave I",
// "junk I" (garbage, oversized and wrong-key packets and a bogus stream to member I),
// "wrongkey" (a member with another key tries to join), "rotate" (a new key added on every
// member, then made primary on each, then the old one removed, 300 ms between members). stdin
// closing ends it.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';
import { encode } from '../../src/cluster/codec';
import { encrypt } from '../../src/cluster/crypto';
import { Keyring } from '../../src/cluster/keyring';
import { Membership } from '../../src/cluster/membership';
import { splitAddress, UdpTransport } from '../../src/cluster/udp-transport';

// Fast timings so failure detection takes seconds, not half a minute.
const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 2_000, leaveTimeoutMs: 2_000, streamTimeoutMs: 2_000 };

const keyrings = new Map<Membership, Keyring>();

async function member(name: string, key: Buffer): Promise<Membership> {
  const transport = await UdpTransport.create({ host: '127.0.0.1', streamTimeoutMs: 2_000 });
  const keyring = new Keyring(key);
  const m = new Membership({ name, transport, keyring, ...TIMINGS });
  keyrings.set(m, keyring);
  m.start();
  return m;
}

async function rotate(members: (Membership | undefined)[], oldKey: Buffer): Promise<void> {
  const newKey = crypto.randomBytes(32);
  for (const step of [(r: Keyring) => r.addKey(newKey), (r: Keyring) => r.useKey(newKey), (r: Keyring) => r.removeKey(oldKey)]) {
    for (const m of members) {
      if (m) step(keyrings.get(m)!);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

async function junk(to: string): Promise<void> {
  const { host, port } = splitAddress(to);
  const socket = dgram.createSocket('udp4');
  const packets = [Buffer.of(1, 2, 3), Buffer.alloc(2000, 7), encrypt(crypto.randomBytes(32), encode({ type: 'ping', seq: 1, target: 'node-0' }))];
  for (const packet of packets) await new Promise((resolve) => socket.send(packet, port, host, resolve));
  socket.close();
  // A stream announcing 4 GiB: the transport must drop it without reading on.
  await new Promise<void>((resolve) => {
    const stream = net.connect({ host, port }, () => stream.write(Buffer.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3)));
    stream.on('close', () => resolve()).on('error', () => {});
  });
}

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const key = Buffer.from(process.argv[3]!, 'hex');
  const members: (Membership | undefined)[] = [];
  for (let i = 0; i < count; i++) members.push(await member(`node-${i}`, key));
  for (const m of members.slice(1)) await m!.join([members[0]!.localAddress]);
  process.stdout.write(`${JSON.stringify({ ready: members.map((m) => m!.localAddress) })}\n`);

  const commands = readline.createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    const [command, arg] = line.trim().split(' ');
    const index = Number(arg);
    const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
    const run = async (): Promise<unknown> => {
      switch (command) {
        case 'status':
          return members.map((m) => m && { views: Object.fromEntries(m.members().map((x) => [x.name, x.state])), drops: m.drops.snapshot() });
        case 'kill':
          await members[index]!.shutdown();
          members[index] = undefined;
          return { ok: true };
        case 'leave':
          await members[index]!.leave();
          await members[index]!.shutdown();
          members[index] = undefined;
          return { ok: true };
        case 'rotate':
          await rotate(members, key);
          return { ok: true };
        case 'junk':
          await junk(members[index]!.localAddress);
          return { ok: true };
        case 'wrongkey': {
          const intruder = await member('intruder', crypto.randomBytes(32));
          try {
            await intruder.join([members[0]!.localAddress]);
            return { joined: true };
          } catch (error) {
            return { joined: false, error: (error as Error).message };
          } finally {
            await intruder.shutdown();
          }
        }
        default:
          return { error: `unknown command ${command}` };
      }
    };
    run().then(reply, (error: Error) => reply({ error: error.message }));
  });
  process.stdin.on('end', async () => {
    for (const m of members) await m?.shutdown();
    process.exit(0);
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
