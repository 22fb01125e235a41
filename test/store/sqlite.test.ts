// The local SQLite store: the shared contract, persistence, and durability across SIGKILL.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalStore, openLocalStore, StoreUnavailableError } from '../../src/store';
import { storeContract } from './contract';

storeContract('sqlite (memory)', () => openLocalStore(':memory:'));
storeContract('sqlite (file, power durability)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-store-'));
  const store = await openLocalStore(path.join(dir, 'store.db'), { durability: 'power' });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return store;
});

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a reopened file has every entry and versions keep growing', async (t) => {
  const file = path.join(tempDir(t), 'store.db');
  const first = await openLocalStore(file);
  const v = await first.put('networks/n1', Buffer.from('{"name":"n1"}'));
  await first.close();
  const second = await openLocalStore(file);
  t.teardown(() => second.close());
  t.deepEqual(await second.get('networks/n1'), { key: 'networks/n1', value: Buffer.from('{"name":"n1"}'), version: v });
  t.true((await second.put('networks/n2', Buffer.from('x'))) > v);
});

test('every write acknowledged before a SIGKILL is there after reopening', async (t) => {
  const file = path.join(tempDir(t), 'store.db');
  const storeModule = path.resolve(__dirname, '..', '..', 'src', 'store', 'index.js');
  // The child writes keys as fast as it can and prints each one once its put resolved.
  const script = `
    const { openLocalStore } = require(${JSON.stringify(storeModule)});
    (async () => {
      const store = await openLocalStore(${JSON.stringify(file)});
      for (let i = 0; i < 100000; i++) {
        await store.put('k/' + String(i).padStart(6, '0'), Buffer.from(String(i)));
        process.stdout.write(i + '\\n');
      }
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acknowledged = -1;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child wrote nothing within 20 s')), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      if (lines.length > 0) acknowledged = Number(lines[lines.length - 1]);
      if (acknowledged >= 2000) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const store = await openLocalStore(file);
  t.teardown(() => store.close());
  const entries = await store.list('k/');
  t.true(entries.length >= acknowledged + 1, `${entries.length} entries after ${acknowledged + 1} acknowledged writes`);
  for (let i = 0; i <= acknowledged; i++) t.is(entries[i]?.value.toString(), String(i));
});

test('an unusable path gives a clear StoreUnavailableError', (t) => {
  const error = t.throws(() => new LocalStore('/proc/nctl-no-such-dir/store.db'), { instanceOf: StoreUnavailableError });
  t.regex(error?.message ?? '', /cannot open the local store \/proc\/nctl-no-such-dir\/store\.db: .*check the path/);
});
