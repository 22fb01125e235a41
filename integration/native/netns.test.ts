// Root tests of the addon's namespace calls, checked with tools that do not use our code:
// nsenter, ip, ss, dig and bash's /dev/tcp.
import test from 'ava';
import { execFileSync, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import {
  createNamespace,
  currentNamespacePath,
  deleteNamespace,
  NamespaceError,
  sameNamespace,
  socketInNamespace,
} from '../../src/native/netns';

const run = promisify(execFile);
const dir = `/run/nctl-test-${crypto.randomBytes(4).toString('hex')}`;
let counter = 0;

function uniqueName(): string {
  return `ns${process.pid}-${counter++}`;
}

/** A namespace removed after the test, even when it fails. */
function freshNamespace(t: { teardown(fn: () => void): void }): string {
  const nsPath = createNamespace(dir, uniqueName());
  t.teardown(() => {
    if (fs.existsSync(nsPath)) deleteNamespace(nsPath);
  });
  return nsPath;
}

function inside(nsPath: string, ...command: string[]): string {
  return execFileSync('nsenter', [`--net=${nsPath}`, ...command], { encoding: 'utf8' });
}

test.after.always(() => {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) deleteNamespace(`${dir}/${name}`);
  execFileSync('umount', [dir]);
  fs.rmdirSync(dir);
});

test('createNamespace makes a new, separate namespace that nsenter can enter', (t) => {
  const nsPath = freshNamespace(t);
  t.false(sameNamespace(nsPath, currentNamespacePath()));
  const links = JSON.parse(inside(nsPath, 'ip', '-j', 'link', 'show')) as Array<{ ifname: string; operstate: string }>;
  t.deepEqual(
    links.map((l) => l.ifname),
    ['lo'],
  );
  t.true(fs.readFileSync('/proc/mounts', 'utf8').includes(` ${nsPath} nsfs `));
});

test('a duplicate name fails with EEXIST and leaves the first namespace intact', (t) => {
  const nsPath = freshNamespace(t);
  const name = nsPath.slice(dir.length + 1);
  const error = t.throws(() => createNamespace(dir, name), { instanceOf: NamespaceError });
  t.is(error?.code, 'EEXIST');
  t.regex(error?.message ?? '', /EEXIST creating network namespace/);
  t.notThrows(() => inside(nsPath, 'ip', 'link', 'show', 'lo'));
});

test('an invalid name is refused before anything is made', (t) => {
  const error = t.throws(() => createNamespace(dir, '../escape'), { instanceOf: NamespaceError });
  t.is(error?.code, 'EINVAL');
  t.false(fs.existsSync(`${dir}/../escape`));
});

test('deleteNamespace removes the name and the mount; a second delete says ENOENT', (t) => {
  const nsPath = createNamespace(dir, uniqueName());
  deleteNamespace(nsPath);
  t.false(fs.existsSync(nsPath));
  t.false(fs.readFileSync('/proc/mounts', 'utf8').includes(` ${nsPath} `));
  const error = t.throws(() => deleteNamespace(nsPath), { instanceOf: NamespaceError });
  t.is(error?.code, 'ENOENT');
});

test('a UDP socket made inside a namespace is adopted by dgram and answers dig there', async (t) => {
  const nsPath = freshNamespace(t);
  inside(nsPath, 'ip', 'link', 'set', 'lo', 'up');
  const fd = socketInNamespace(nsPath, 'udp4', '127.0.0.11', 53);
  const server = dgram.createSocket('udp4');
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.bind({ fd }, resolve));
  // Answer every query with one A record 10.9.8.7, enough for dig to print it.
  server.on('message', (query, peer) => {
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2); // response, recursion desired+available, no error
    header.writeUInt16BE(1, 6); // one answer
    header.writeUInt32BE(0, 8); // no authority or additional records (drops dig's EDNS OPT)
    let end = 12;
    while (query[end] !== 0) end += query[end]! + 1;
    const question = query.subarray(12, end + 5); // name, its zero byte, type and class
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7]);
    server.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });

  const listening = inside(nsPath, 'ss', '-Hlun');
  t.regex(listening, /127\.0\.0\.11:53\b/);
  t.notRegex(execFileSync('ss', ['-Hlun'], { encoding: 'utf8' }), /127\.0\.0\.11:53\b/);

  const { stdout } = await run('nsenter', [`--net=${nsPath}`, 'dig', '+short', '+tries=1', '+time=2', '@127.0.0.11', 'web.test']);
  t.is(stdout.trim(), '10.9.8.7');
});

test('a TCP socket made inside a namespace is adopted by net.Server', async (t) => {
  const nsPath = freshNamespace(t);
  inside(nsPath, 'ip', 'link', 'set', 'lo', 'up');
  const fd = socketInNamespace(nsPath, 'tcp4', '127.0.0.11', 53);
  const server = net.createServer((socket) => socket.end('pong\n'));
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
  t.regex(inside(nsPath, 'ss', '-Hltn'), /127\.0\.0\.11:53\b/);
  const { stdout } = await run('nsenter', [`--net=${nsPath}`, 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.11/53; cat <&3']);
  t.is(stdout, 'pong\n');
});

test('IPv6 sockets bind inside the namespace too', async (t) => {
  const nsPath = freshNamespace(t);
  inside(nsPath, 'ip', 'link', 'set', 'lo', 'up');
  const fd = socketInNamespace(nsPath, 'udp6', '::1', 5353);
  const server = dgram.createSocket('udp6');
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.bind({ fd }, resolve));
  t.is(server.address().address, '::1');
  t.regex(inside(nsPath, 'ss', '-Hlun'), /\[::1\]:5353\b/);
});

test('socket errors are typed: missing namespace, address not present there, bad input', (t) => {
  const missing = t.throws(() => socketInNamespace(`${dir}/no-such-ns`, 'udp4', '127.0.0.1', 53), { instanceOf: NamespaceError });
  t.is(missing?.code, 'ENOENT');

  // IPv6 binds only to addresses the namespace has; a fresh one has none.
  const nsPath = freshNamespace(t);
  const unavailable = t.throws(() => socketInNamespace(nsPath, 'udp6', '2001:db8::1', 53), { instanceOf: NamespaceError });
  t.is(unavailable?.code, 'EADDRNOTAVAIL');

  t.throws(() => socketInNamespace(nsPath, 'udp4', 'not-an-ip', 53), { instanceOf: TypeError, message: /not an IPv4 address/ });
  t.throws(() => socketInNamespace(nsPath, 'udp4', '127.0.0.1', 70000), { instanceOf: RangeError });
});
