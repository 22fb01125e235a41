// Run inside a test host (`nsenter --net=...`): makes every kind of callback the addon calls
// throw once (a UDP batch, netlink datagrams, an offloaded netlink send, runProcess's and
// spawnStreaming's completions), then checks each goes on working. argv[2]: "guarded" uses
// native() (the TypeScript guard reports), "unguarded" the addon as built (its C++ line
// catches). Prints a JSON object of what worked after the throw; a process the throws killed
// prints nothing.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { native, type NativeAddon, unguardedAddon } from '../../src/native/addon';

const RTM_GETLINK = 18;
const NLM_F_REQUEST_DUMP = 0x301;

/** An RTM_GETLINK dump request: a netlink header and an empty ifinfomsg. */
function linkDump(seq: number): Buffer {
  const message = Buffer.alloc(32);
  message.writeUInt32LE(32, 0);
  message.writeUInt16LE(RTM_GETLINK, 4);
  message.writeUInt16LE(NLM_F_REQUEST_DUMP, 6);
  message.writeUInt32LE(seq, 8);
  return message;
}

/** Resolves once `attempt` has called back twice: the first call throws, the second resolves. */
function throwsThenWorks(what: string, attempt: (callback: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    let calls = 0;
    const callback = (): void => {
      if (++calls === 1) {
        setImmediate(() => attempt(callback));
        throw new Error(`${what} boom`);
      }
      resolve(true);
    };
    attempt(callback);
  });
}

async function udp(addon: NativeAddon): Promise<boolean> {
  const batch = new addon.UdpBatch(addon.socketInNetns('', 'udp4', '127.0.0.1', 5353));
  let calls = 0;
  batch.start((messages, peers) => {
    if (++calls === 1) throw new Error('udp boom');
    batch.send(messages, peers);
  });
  const client = dgram.createSocket('udp4');
  const echoed = new Promise<boolean>((resolve) => client.once('message', () => resolve(true)));
  client.send('first', 5353, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 100));
  client.send('second', 5353, '127.0.0.1');
  const result = await echoed;
  client.close();
  batch.close();
  return result;
}

async function netlink(addon: NativeAddon): Promise<{ datagrams: boolean; offloaded: boolean }> {
  const socket = addon.openNetlink(0, null, 0);
  let seq = 0;
  const datagrams = await throwsThenWorks('netlink datagrams', (callback) => {
    if (seq === 0) socket.start(callback, () => undefined);
    socket.send(linkDump(++seq));
  });
  const offloaded = await throwsThenWorks('netlink send', (callback) => socket.sendOffloaded(linkDump(++seq), callback));
  socket.close();
  return { datagrams, offloaded };
}

function spawned(addon: NativeAddon): Promise<boolean> {
  return throwsThenWorks('spawnStreaming', (callback) =>
    addon.spawnStreaming('/bin/true', ['true'], undefined, false, (_error, started) => {
      fs.closeSync(started!.stdout);
      fs.closeSync(started!.stderr);
      const reap = (): void => void (addon.reapIfExited(started!.pid) === null && setTimeout(reap, 5));
      reap();
      callback();
    }),
  );
}

async function main(): Promise<void> {
  const addon = process.argv[2] === 'guarded' ? native() : unguardedAddon();
  const results = {
    udp: await udp(addon),
    ...(await netlink(addon)),
    runProcess: await throwsThenWorks('runProcess', (callback) => addon.runProcess('/bin/true', ['true'], undefined, undefined, 0, callback)),
    spawnStreaming: await spawned(addon),
  };
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

const timer = setTimeout(() => {
  process.stderr.write('throwing-callbacks: no result within 10 s\n');
  process.exit(2);
}, 10_000);
void main().then(() => clearTimeout(timer));
