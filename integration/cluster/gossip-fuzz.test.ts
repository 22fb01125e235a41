// 10,000 fuzzed gossip packets from another test host at a member on the real UDP transport,
// with a key and without: it stays up, keeps answering a healthy peer's probes, keeps a correct
// view, and counts what it drops.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { createUnderlay, type UnderlayHost } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

const HELPER = path.resolve(__dirname, '..', 'helpers', 'fuzz-process.js');
const PACKETS = 10_000;

interface Status {
  view: Record<string, string>;
  incarnations: Record<string, number>;
  addresses: Record<string, string>;
  drops: { auth: number; malformed: number; oversized: number };
}

/** Starts fuzz-process.ts in `host`; resolves with its first line and a way to ask it more. */
async function spawnHelper(t: ExecutionContext, host: UnderlayHost, args: string[]) {
  const child = spawn('nsenter', [`--net=${host.ns.path}`, process.execPath, HELPER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited: number | null | undefined;
  const pending: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => pending.shift()?.resolve(line));
  child.once('exit', (code) => {
    exited = code;
    for (const waiter of pending.splice(0)) waiter.reject(new Error(`fuzz helper ${args[0]} exited ${code}: ${stderr}`));
  });
  const next = <T>(): Promise<T> => new Promise<string>((resolve, reject) => pending.push({ resolve, reject })).then((line) => JSON.parse(line) as T);
  const first = await next<{ ready?: string; sent?: number }>();
  return {
    first,
    alive: () => exited === undefined,
    status: (): Promise<Status> => {
      const answer = next<Status>();
      child.stdin.write('status\n');
      return answer;
    },
  };
}

async function fuzzMember(t: ExecutionContext, keyed: boolean): Promise<void> {
  const key = keyed ? crypto.randomBytes(32).toString('hex') : '-';
  const underlay = createUnderlay(t);
  const targetHost = underlay.addHost();
  const attackerHost = underlay.addHost();
  const peerHost = underlay.addHost();
  const target = await spawnHelper(t, targetHost, ['target', targetHost.address, key]);
  const peer = await spawnHelper(t, peerHost, ['peer', peerHost.address, key, target.first.ready!]);
  const healthy = (s: Status): boolean => s.view['target'] === 'alive' && s.view['peer'] === 'alive';
  await until('target and peer see each other alive', async () => healthy(await target.status()) && healthy(await peer.status()));
  const before = await target.status();

  // The peer's view is sampled while the packets fly: the target must never be declared dead.
  let fuzzing = true;
  const peerViews: string[] = [];
  const watch = (async () => {
    while (fuzzing) {
      peerViews.push((await peer.status()).view['target']!);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const attacker = await spawnHelper(t, attackerHost, ['fuzz', attackerHost.address, key, target.first.ready!, String(PACKETS), '1']).finally(() => (fuzzing = false));
  await watch;
  t.is(attacker.first.sent, PACKETS);
  t.true(target.alive(), 'the target process survived');
  t.false(peerViews.includes('dead'), `the peer saw the target ${[...new Set(peerViews)].join(', ')} during the fuzz`);

  // Fuzzed alive messages may add members that do not exist (with a key, only because the test's
  // fuzzer holds it); they are probed and declared dead in time like any lost host. What must hold
  // is that both real members stay alive in both views, under their own addresses.
  await until('target and peer alive in both views', async () => healthy(await target.status()) && healthy(await peer.status()));
  const after = await target.status();
  const peerAfter = await peer.status();
  t.log(`drops before ${JSON.stringify(before.drops)}, after ${JSON.stringify(after.drops)}; made-up members ${Object.keys(after.view).length - 2}; target's incarnation as the peer sees it ${peerAfter.incarnations['target']} (1 = never suspected)`);
  t.is(after.addresses['peer'], peer.first.ready!);
  t.is(peerAfter.addresses['target'], target.first.ready!);
  t.true(after.drops.malformed > before.drops.malformed, 'malformed packets counted');
  t.true(after.drops.oversized > before.drops.oversized, 'oversized packets counted');
  if (keyed) t.true(after.drops.auth > before.drops.auth, 'packets failing authentication counted');
}

test('a member with a key survives 10,000 fuzzed packets with a correct view and counted drops', (t) => fuzzMember(t, true));
test('a member without a key survives 10,000 fuzzed packets with a correct view and counted drops', (t) => fuzzMember(t, false));
