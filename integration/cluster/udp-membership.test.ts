// Membership over the real UDP/TCP transport, encrypted, inside a test host on its own loopback:
// members converge, keys rotate with no member lost, junk is dropped and counted, a wrong key
// cannot join, a killed member is declared dead and a leaving one shows as left.
import test from 'ava';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { createTestNamespace } from '../helpers/netns';
import { until } from '../../test/helpers/until';

const HELPER = path.resolve(__dirname, '..', 'helpers', 'cluster-process.js');

type Status = ({ views: Record<string, string>; drops: Record<string, number> } | null)[];

async function startCluster(t: Parameters<typeof createTestNamespace>[0], count: number) {
  const host = createTestNamespace(t, 'nctl-clu');
  host.run('ip', 'link', 'set', 'lo', 'up');
  const child = spawn('nsenter', [`--net=${host.path}`, process.execPath, HELPER, String(count), crypto.randomBytes(32).toString('hex')], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = readline.createInterface({ input: child.stdout });
  const pending: ((line: string) => void)[] = [];
  const ready = new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster helper did not start: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`cluster helper exited ${code}: ${stderr}`)));
    pending.push((line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { ready: string[] }).ready);
    });
  });
  lines.on('line', (line) => pending.shift()?.(line));
  const addresses = await ready;
  // Commands are answered in order, one line each.
  const ask = <T>(command: string): Promise<T> =>
    new Promise((resolve) => {
      pending.push((line) => resolve(JSON.parse(line) as T));
      child.stdin.write(`${command}\n`);
    });
  return { addresses, ask, status: () => ask<Status>('status') };
}

test('encrypted members over UDP/TCP: converge, rotate keys, drop junk, refuse a wrong key, detect death and leave', async (t) => {
  const { addresses, ask, status } = await startCluster(t, 4);
  t.true(addresses.every((a) => /^127\.0\.0\.1:\d+$/.test(a)));
  t.is(new Set(addresses).size, 4);
  const everyone = ['node-0', 'node-1', 'node-2', 'node-3'];
  const allSee = (s: Status, name: string, state: string): boolean => s.every((m, i) => !m || `node-${i}` === name || m.views[name] === state);
  await until('all 4 see all 4 alive', async () => {
    const s = await status();
    return everyone.every((name) => allSee(s, name, 'alive'));
  });

  // Key rotation while gossip runs: no member suspected, no packet refused.
  await ask('rotate');
  const afterRotation = await status();
  t.true(everyone.every((name) => allSee(afterRotation, name, 'alive')));
  t.true(afterRotation.every((m) => m!.drops.auth === 0 && m!.drops.malformed === 0));

  await ask('junk 1');
  await until('junk counted', async () => {
    const drops = (await status())[1]!.drops;
    return drops.malformed! >= 1 && drops.oversized! >= 1 && drops.auth! >= 1;
  });

  const intruder = await ask<{ joined: boolean; error?: string }>('wrongkey');
  t.false(intruder.joined);
  t.regex(intruder.error!, /same key/);
  t.false(Object.keys((await status())[0]!.views).includes('intruder'));

  await ask('kill 3');
  await until('node-3 declared dead by all', async () => allSee(await status(), 'node-3', 'dead'), 30_000);

  await ask('leave 2');
  await until('node-2 seen left', async () => allSee(await status(), 'node-2', 'left'), 10_000);

  const final = await status();
  t.is(final[0]!.views['node-1'], 'alive');
  t.is(final[1]!.views['node-0'], 'alive');
});
