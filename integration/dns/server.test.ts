// The embedded DNS in a sandbox, asked with dig from inside it: names, aliases, AAAA, PTR, case,
// TCP, scope, forwarding past a dead first upstream, an internal sandbox that never forwards,
// hostile packets that change nothing, and a query whose answer throws.
import test from 'ava';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createNamespace, deleteNamespace } from '../../src/native/netns';
import { createTestNamespace } from '../helpers/netns';

const run = promisify(execFile);
const HELPER = path.resolve(__dirname, '..', 'helpers', 'dns-process.js');
const dir = `/run/nctl-dns-${crypto.randomBytes(4).toString('hex')}`;

test.after.always(() => {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) deleteNamespace(path.join(dir, name));
  void run('umount', [dir]).then(() => fs.rmdirSync(dir));
});

const NAMES = [
  { networkId: 'n1', networkName: 'front', name: 'web', hostname: 'webhost', aliases: ['site'], ipv4: '10.1.0.2', ipv6: 'fd00:1::2' },
  { networkId: 'n1', networkName: 'front', name: 'web2', aliases: ['site'], ipv4: '10.1.0.3' },
  { networkId: 'n2', networkName: 'back', name: 'db', aliases: [], ipv4: '10.2.0.2' },
];

interface Sandbox {
  key: string;
  /** What the DNS process wrote to stderr so far. */
  log(): string;
  alive(): boolean;
  dig(...args: string[]): Promise<string>;
  /** Sends raw bytes over UDP from inside the sandbox; resolves with the reply, or undefined after 300 ms. */
  send(bytes: Buffer): Promise<Buffer | undefined>;
}

const SEND = `const s = require('dgram').createSocket('udp4'); const t = setTimeout(() => process.exit(0), 300);
s.on('message', (m) => { process.stdout.write(m.toString('hex')); clearTimeout(t); process.exit(0); });
s.send(Buffer.from(process.argv[1], 'hex'), 53, '127.0.0.11');`;

interface Scope {
  networkIds: string[];
  mayForward: boolean;
  /** Forward to the dead upstream alone, giving up after timeoutMs. */
  deadOnly?: boolean;
  timeoutMs?: number;
  /** Sandboxes from this index on have the upstreams as their own (a forwarder each), as `run --dns` makes them. */
  ownUpstreamsFrom?: number;
  /** Instead of [dead, live]: 127.0.0.1:5300 is the live one. */
  upstreams?: Array<{ address: string; port: number }>;
  /** A name whose lookup throws, as a bug would. */
  throwOn?: string;
}

/** A test host running the DNS for fresh sandboxes; dig and raw sends from inside each. */
async function setupMany(t: Parameters<typeof createTestNamespace>[0], count: number, scope: Scope): Promise<Sandbox[]> {
  const host = createTestNamespace(t, 'nctl-dns');
  host.run('ip', 'link', 'set', 'lo', 'up');
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const sandbox = createNamespace(dir, `sb-${crypto.randomBytes(4).toString('hex')}`);
    t.teardown(() => deleteNamespace(sandbox));
    await run('nsenter', [`--net=${sandbox}`, 'ip', 'link', 'set', 'lo', 'up']);
    keys.push(sandbox);
  }
  const child: ChildProcess = spawn('nsenter', [`--net=${host.path}`, process.execPath, HELPER, keys.join(','), JSON.stringify({ names: NAMES, ...scope })], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dns helper did not start')), 20_000);
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && (clearTimeout(timer), resolve()));
    child.once('exit', (code) => reject(new Error(`dns helper exited ${code}`)));
  });
  return keys.map((sandbox) => ({
    key: sandbox,
    log: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    dig: async (...args) => (await run('nsenter', [`--net=${sandbox}`, 'dig', '@127.0.0.11', '+time=3', '+tries=1', ...args])).stdout,
    send: async (bytes) => {
      const out = (await run('nsenter', [`--net=${sandbox}`, process.execPath, '-e', SEND, bytes.toString('hex')])).stdout;
      return out === '' ? undefined : Buffer.from(out, 'hex');
    },
  }));
}

const setup = async (t: Parameters<typeof createTestNamespace>[0], scope: Scope): Promise<Sandbox> => (await setupMany(t, 1, scope))[0]!;

const answers = (out: string): string[] => out.trim().split('\n').filter(Boolean).sort();
const queryTime = (out: string): number => Number(/Query time: (\d+) msec/.exec(out)?.[1]);

test('names, hostnames, shared aliases, AAAA, PTR, case and name.network; over UDP and TCP', async (t) => {
  const { dig } = await setup(t, { networkIds: ['n1', 'n2'], mayForward: true });
  t.deepEqual(answers(await dig('+short', 'web')), ['10.1.0.2']);
  t.deepEqual(answers(await dig('+short', 'WebHost.')), ['10.1.0.2']);
  t.deepEqual(answers(await dig('+short', 'site')), ['10.1.0.2', '10.1.0.3']);
  t.deepEqual(answers(await dig('+short', 'web', 'AAAA')), ['fd00:1::2']);
  t.deepEqual(answers(await dig('+short', 'db.back')), ['10.2.0.2']);
  t.deepEqual(answers(await dig('+short', '-x', '10.1.0.3')), ['web2.front.']);
  t.deepEqual(answers(await dig('+short', '+tcp', 'web2')), ['10.1.0.3']);
  const full = await dig('web', 'A');
  t.regex(full, /status: NOERROR/);
  t.regex(full, /^web\.\s+600\s+IN\s+A\s+10\.1\.0\.2$/m, "Docker's TTL of 600");
  const otherFamily = await dig('web2', 'AAAA');
  t.regex(otherFamily, /status: NOERROR/);
  t.regex(otherFamily, /ANSWER: 0/, 'a known name asked for the other family: no answer, not forwarded');
});

test('scope: names of networks the sandbox is not on are not answered (the question goes upstream)', async (t) => {
  const { dig } = await setup(t, { networkIds: ['n1'], mayForward: true });
  t.regex(await dig('db'), /status: NXDOMAIN/);
  t.deepEqual(answers(await dig('+short', 'web')), ['10.1.0.2']);
});

// Timing: a forwarder asks an upstream that missed its answer last from then on, so only its first
// query shows how a dead or refusing first upstream is handled: each try below is a sandbox with a
// forwarder of its own. A loaded machine may stall any one try; the slow behaviours guarded against
// (waiting out the 5 s timeout, or the 50 ms hedge) would show in every try.

/** Runs `attempt` in one sandbox after another until a result is `good`; returns the results. */
async function bestOf<T>(sandboxes: Sandbox[], attempt: (sandbox: Sandbox, i: number) => Promise<T>, good: (result: T) => boolean): Promise<T[]> {
  const results: T[] = [];
  for (const [i, sandbox] of sandboxes.entries()) {
    results.push(await attempt(sandbox, i));
    if (good(results[i]!)) break;
  }
  return results;
}

test('forwarding: a dead first upstream costs a query under 100 ms, over UDP and TCP', async (t) => {
  const sandboxes = await setupMany(t, 5, { networkIds: ['n1'], mayForward: true, ownUpstreamsFrom: 0 });
  // The cost: a forwarder's first query (the dead upstream, then the live one after the hedge)
  // against its second, asked right after under the same load (the dead one is asked last by then).
  const cost = ({ first, next }: { first: string; next: string }): number => queryTime(first) - queryTime(next);
  const pairs = await bestOf(sandboxes, async ({ dig }) => ({ first: await dig('example.org'), next: await dig('example.org') }), (pair) => cost(pair) < 100);
  for (const { first } of pairs) t.regex(first, /^example\.org\.\s+30\s+IN\s+A\s+192\.0\.2\.99$/m);
  t.true(pairs.some((pair) => cost(pair) < 100), `best of ${pairs.length}:\n${pairs.map(({ first, next }) => `${first}${next}`).join('\n')}`);
  // The dead upstream is now asked last: no wait for the 50 ms hedge. The hedge is a floor (its
  // timer never fires early), so one query of up to ten under 45 ms shows it was not waited for.
  const { dig } = sandboxes[pairs.length - 1]!;
  const again = [pairs.at(-1)!.next];
  while (again.length < 10 && !again.some((out) => queryTime(out) < 45)) again.push(await dig('example.org'));
  t.true(again.some((out) => queryTime(out) < 45), again.join('\n'));
  t.deepEqual(answers(await dig('+short', '+tcp', 'example.org')), ['192.0.2.99']);
});

test('an upstream that refuses (nothing on its port) or cannot be reached (no route) is passed over at once, not after the hedge', async (t) => {
  const live = { address: '127.0.0.1', port: 5300 };
  for (const [what, first] of [['refused', { address: '127.0.0.1', port: 5399 }], ['no route', { address: '192.0.2.1', port: 53 }]] as const) {
    const sandboxes = await setupMany(t, 8, { networkIds: ['n1'], mayForward: true, upstreams: [first, live], ownUpstreamsFrom: 0 });
    // Under the 50 ms hedge (a floor, see above), with room for timers that fire a little early.
    const tries = await bestOf(sandboxes, ({ dig }, i) => dig(`q${i}.example.org`), (out) => queryTime(out) < 45);
    for (const out of tries) t.regex(out, /status: NXDOMAIN/, `${what}: the live upstream's answer`);
    t.true(tries.some((out) => queryTime(out) < 45), `${what}, best of ${tries.length}:\n${tries.join('\n')}`);
  }
  // With one upstream only, every query meets the refusal: the best of three is bounded.
  const { dig } = await setup(t, { networkIds: ['n1'], mayForward: true, upstreams: [{ address: '127.0.0.1', port: 5399 }] });
  const alone: string[] = [];
  for (let attempt = 0; attempt < 3 && !alone.some((out) => queryTime(out) < 1000); attempt++) alone.push(await dig('example.org'));
  for (const out of alone) t.regex(out, /status: SERVFAIL/);
  t.true(alone.some((out) => queryTime(out) < 1000), `the only upstream refuses: SERVFAIL at once, not after the 5 s timeout\n${alone.join('\n')}`);
});

test('a sandbox only on internal networks never forwards: REFUSED, while its names still answer', async (t) => {
  const { dig } = await setup(t, { networkIds: ['n1'], mayForward: false });
  t.regex(await dig('example.org'), /status: REFUSED/);
  t.deepEqual(answers(await dig('+short', 'web')), ['10.1.0.2']);
});

test('hostile packets get FORMERR or nothing, and the resolver answers on', async (t) => {
  const { dig, send } = await setup(t, { networkIds: ['n1'], mayForward: true });
  const header = (id: number, counts: number[]): Buffer => Buffer.from([id >> 8, id & 255, 0x01, 0x00, ...counts.flatMap((c) => [c >> 8, c & 255])]);
  const loop = Buffer.concat([header(0x1234, [1, 0, 0, 0]), Buffer.from([0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01])]);
  const formerr = await send(loop);
  t.is(formerr?.readUInt16BE(0), 0x1234, 'the reply carries the query ID');
  t.is((formerr?.[3] ?? 0) & 0x0f, 1, 'FORMERR for a compression loop');
  const huge = Buffer.concat([header(0x1235, [0xffff, 0xffff, 0xffff, 0xffff]), Buffer.from([1, 0x61, 0, 0, 1, 0, 1])]);
  t.is(((await send(huge))?.[3] ?? 0) & 0x0f, 1, 'FORMERR for counts the message cannot hold');
  t.is(await send(Buffer.from([1, 2, 3])), undefined, 'too short to carry an ID: no answer');
  for (let i = 0; i < 20; i++) await send(crypto.randomBytes(12 + i * 3));
  t.deepEqual(answers(await dig('+short', 'web')), ['10.1.0.2']);
});

test('a query whose answer throws (a bug) gets SERVFAIL over UDP and TCP, logged; the resolver answers on', async (t) => {
  const { dig, log, alive } = await setup(t, { networkIds: ['n1'], mayForward: true, throwOn: 'boom' });
  t.regex(await dig('boom'), /status: SERVFAIL/);
  t.regex(await dig('+tcp', 'boom'), /status: SERVFAIL/);
  t.deepEqual(answers(await dig('+short', 'web')), ['10.1.0.2']);
  t.deepEqual(answers(await dig('+short', '+tcp', 'web')), ['10.1.0.2']);
  t.true(alive());
  t.regex(log(), /the answer to a DNS query threw, ignored: Error: lookup of boom failed/);
});

/**
 * Sends `count` queries for distinct outside names from inside a sandbox and counts the replies by
 * rcode. Paced so that nothing need be lost: each burst of 50 waits until the resolver's socket
 * has read the last one; done once both sockets are drained and no reply came for a second.
 * `dropped` counts the datagrams the sandbox's UDP still lost (InErrors): the counts are exact
 * when it is 0, and each drop can take at most one reply away.
 */
const FLOOD = `const fs = require('fs'); const s = require('dgram').createSocket('udp4'); const count = Number(process.argv[1]); const rcodes = {};
const inErrors = () => { const [names, values] = fs.readFileSync('/proc/net/snmp', 'utf8').split('\\n').filter((l) => l.startsWith('Udp:')).map((l) => l.trim().split(/\\s+/)); return Number(values[names.indexOf('InErrors')]); };
const queued = (port) => fs.readFileSync('/proc/net/udp', 'utf8').split('\\n').slice(1).map((l) => l.trim().split(/\\s+/)).filter((f) => f.length > 4 && parseInt(f[1].split(':')[1], 16) === port).reduce((n, f) => n + parseInt(f[4].split(':')[1], 16), 0);
const query = (i) => { const name = Buffer.from('q' + i + '.example.net'); const labels = Buffer.concat(String(name).split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])));
  return Buffer.concat([Buffer.from([i >> 8, i & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), labels, Buffer.from([0, 0, 1, 0, 1])]); };
let sent = 0; let unsent = 0; let last = Date.now(); const deadline = Date.now() + 30000;
s.on('message', (m) => { const r = m[3] & 15; rcodes[r] = (rcodes[r] || 0) + 1; last = Date.now(); });
s.bind(0, () => {
  const before = inErrors(); const own = s.address().port;
  const idle = () => unsent === 0 && queued(53) === 0 && queued(own) === 0;
  const burst = () => {
    if (!idle() && Date.now() < deadline) return setTimeout(burst, 1);
    for (let k = 0; k < 50 && sent < count; k++) { unsent++; s.send(query(sent++), 53, '127.0.0.11', () => { unsent--; last = Date.now(); }); }
    setTimeout(sent < count ? burst : settle, 1);
  };
  const settle = () => {
    if ((!idle() || Date.now() - last < 1000) && Date.now() < deadline) return setTimeout(settle, 20);
    console.log(JSON.stringify({ rcodes, dropped: inErrors() - before })); process.exit(0);
  };
  burst();
});`;

interface Flood {
  rcodes: Record<string, number>;
  dropped: number;
}

const flood = async (sandbox: Sandbox, count: number): Promise<Flood> =>
  JSON.parse((await run('nsenter', [`--net=${sandbox.key}`, process.execPath, '-e', FLOOD, String(count)])).stdout) as Flood;

/** Whether `refused` REFUSED replies fit `expected` exactly, but for one per datagram lost. */
const refusedFits = (refused: number, expected: number, dropped: number): boolean => refused <= expected && refused >= expected - dropped;

test('forwards in flight are bounded: beyond 256 from one sandbox and 1,024 in all (own --dns resolvers too), REFUSED at once; names still answer', async (t) => {
  // The only upstream never answers: every forward stays in flight until the test has ended (the
  // 100 s timeout outlasts a slow start of the floods). The last two sandboxes have resolvers of
  // their own: their forwards count in the same 1,024.
  const sandboxes = await setupMany(t, 5, { networkIds: ['n1'], mayForward: true, deadOnly: true, timeoutMs: 100_000, ownUpstreamsFrom: 3 });
  const [first, ...others] = sandboxes;
  const one = await flood(first!, 300);
  t.deepEqual(Object.keys(one.rcodes).filter((rcode) => rcode !== '5'), [], 'nothing but REFUSED answered yet');
  t.true(refusedFits(one.rcodes['5'] ?? 0, 44, one.dropped), `one sandbox: 256 in flight, the other 44 REFUSED: ${JSON.stringify(one)}`);
  const floods = await Promise.all(others.map((sandbox) => flood(sandbox, 250)));
  const refused = floods.reduce((sum, f) => sum + (f.rcodes['5'] ?? 0), 0);
  const dropped = floods.reduce((sum, f) => sum + f.dropped, 0);
  t.true(refusedFits(refused, 256 + 4 * 250 - 1024, dropped), `all sandboxes: 1,024 in flight, the rest REFUSED: ${JSON.stringify(floods)}`);
  t.true(floods.every((f) => Object.keys(f.rcodes).every((rcode) => rcode === '5')), 'and nothing else answered yet');
  if (one.dropped + dropped > 0) t.log(`${one.dropped + dropped} datagrams lost: the REFUSED counts were checked within that margin`);
  t.deepEqual(answers(await first!.dig('+short', 'web')), ['10.1.0.2'], "the sandboxes' own names still answer");
  t.regex(await others[3]!.dig('example.org'), /status: REFUSED/, 'a new outside query is refused while saturated');
});
