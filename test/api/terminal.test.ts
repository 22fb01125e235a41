// -t and -i as the API reads them (Tty, OpenStdin, StdinOnce, ConsoleSize, resize sizes), and the
// frames the daemon sends a shim's control channel.
import test from 'ava';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { parseConsoleSize, parseContainerCreate } from '../../src/api/container-json';
import { ApiError } from '../../src/api/errors';
import { parseResize, relayStdin } from '../../src/api/stdin';
import { ControlChannel, MAX_PAYLOAD } from '../../src/launcher/control';

const create = (body: Record<string, unknown>): ReturnType<typeof parseContainerCreate> => parseContainerCreate({ Cmd: ['sh'], ...body }, undefined, () => '/rootfs');

test('Tty, OpenStdin, StdinOnce and ConsoleSize are kept; absent or false, left out', (t) => {
  const created = create({ Tty: true, OpenStdin: true, StdinOnce: true, HostConfig: { ConsoleSize: [40, 120] } });
  t.like(created, { tty: true, openStdin: true, stdinOnce: true, consoleSize: { rows: 40, columns: 120 } });
  const plain = create({ Tty: false, OpenStdin: null, HostConfig: { ConsoleSize: [40, 120] } });
  // A size means nothing without a pty.
  for (const key of ['tty', 'openStdin', 'stdinOnce', 'consoleSize']) t.false(key in plain, key);
});

test('a Tty that is not a boolean, or a ConsoleSize that is not [rows, columns], is a 400', (t) => {
  t.is(t.throws(() => create({ Tty: 'yes' }), { instanceOf: ApiError })?.status, 400);
  for (const size of [[1], [1, 2, 3], [-1, 5], [1.5, 2], [70000, 1], 'big']) {
    t.is(t.throws(() => parseConsoleSize(size), { instanceOf: ApiError })?.status, 400, JSON.stringify(size));
  }
  // Docker's [0, 0]: no size given.
  t.is(parseConsoleSize([0, 0]), undefined);
  t.is(parseConsoleSize(null), undefined);
});

test('resize takes h and w as whole numbers from 0 to 65535; anything else is a 400 naming it', (t) => {
  t.deepEqual(parseResize(new URLSearchParams('h=24&w=80')), { rows: 24, columns: 80 });
  for (const query of ['w=80', 'h=abc&w=80', 'h=24&w=-1', 'h=24&w=65536', 'h=2.5&w=80']) {
    const error = t.throws(() => parseResize(new URLSearchParams(query)), { instanceOf: ApiError });
    t.is(error?.status, 400, query);
    t.regex(error?.message ?? '', /^invalid [hw]=/, query);
  }
});

/** The frames written to a channel: [type, payload]. */
function framesOf(data: Buffer): Array<[number, Buffer]> {
  const frames: Array<[number, Buffer]> = [];
  for (let at = 0; at < data.length; ) {
    const length = data.readUInt32BE(at + 1);
    frames.push([data[at]!, data.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
  }
  return frames;
}

test('the control channel frames stdin (cut to the shim\'s limit), its end once, and resizes', async (t) => {
  const sink = new PassThrough();
  const written: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => written.push(chunk));
  const channel = new ControlChannel(sink);
  const big = Buffer.alloc(MAX_PAYLOAD + 10, 'a');
  await channel.write(big);
  channel.resize(50, 132);
  channel.endStdin();
  channel.endStdin();
  await channel.write(Buffer.from('after the end'));
  const frames = framesOf(Buffer.concat(written));
  t.deepEqual(frames.map(([type, payload]) => [type, payload.length]), [[0, MAX_PAYLOAD], [0, 10], [2, 4], [1, 0]]);
  t.deepEqual([frames[2]![1].readUInt16BE(0), frames[2]![1].readUInt16BE(2)], [50, 132]);
});

test('a write waiting for a full pipe resolves when the pipe fails (the shim went), and later writes are dropped', async (t) => {
  // A pipe that is always full and whose reader goes away: the write waits for a drain that never comes.
  const pipe = new Writable({ highWaterMark: 1, write: (_chunk, _encoding, done) => setTimeout(() => done(Object.assign(new Error('EPIPE'), { code: 'EPIPE' })), 10) });
  const channel = new ControlChannel(pipe);
  await t.notThrowsAsync(channel.write(Buffer.from('typed while the process exits')));
  await t.notThrowsAsync(channel.write(Buffer.from('and after')));
});

test('stdin sent before the process runs is kept for it, and the client\'s end ends it', async (t) => {
  const [client, server] = await socketPair(t);
  const received: string[] = [];
  let ready = false;
  const channel = { write: async (chunk: Buffer) => void received.push(chunk.toString()), endStdin: () => void received.push('END') } as unknown as ControlChannel;
  const relayed = relayStdin(server, () => (ready ? channel : undefined), true);
  client.end('early\n');
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.deepEqual(received, []);
  ready = true;
  await relayed;
  t.deepEqual(received, ['early\n', 'END']);
});

test('stdin is dropped, not held, once the run it waited for has ended', async (t) => {
  const [client, server] = await socketPair(t);
  let ended = false;
  const relayed = relayStdin(server, () => (ended ? null : undefined), true);
  client.write('never read\n');
  ended = true;
  await relayed;
  t.pass();
});

/** Two ends of a unix socket connection, half-open allowed as the API server allows it. */
async function socketPair(t: { teardown(fn: () => void): void }): Promise<[net.Socket, net.Socket]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-stdin-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's');
  const server = net.createServer({ allowHalfOpen: true });
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(file, resolve));
  const client = net.connect({ path: file, allowHalfOpen: true });
  const other = await accepted;
  server.close();
  t.teardown(() => (client.destroy(), other.destroy()));
  return [client, other];
}
