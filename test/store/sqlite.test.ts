// The local SQLite store: the shared contract, persistence, and durability across SIGKILL.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CasConflictError, LocalStore, openLocalStore, StoreUnavailableError } from '../../src/store';
import { prefixEnd } from '../../src/store/sqlite';
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
    // A bound on a hang only: on a busy machine 2,000 writes once took over 20 s.
    const timer = setTimeout(() => reject(new Error(`the child acknowledged ${acknowledged + 1} of 500 writes within 60 s`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      if (lines.length > 0) acknowledged = Number(lines[lines.length - 1]);
      if (acknowledged >= 500) {
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

test('prefixEnd bounds exactly the keys starting with a prefix', (t) => {
  t.is(prefixEnd(''), undefined);
  t.is(prefixEnd('a/b'), 'a/c');
  t.is(prefixEnd('a\u{10FFFF}'), 'b');
  t.is(prefixEnd('\u{10FFFF}\u{10FFFF}'), undefined);
  t.is(prefixEnd('x\uD7FF'), 'x\uE000');
  t.is(prefixEnd('x\u{1F600}'), 'x\u{1F601}');
});

test('keys containing the highest code point are still listed under their prefix', async (t) => {
  const store = await openLocalStore(':memory:');
  t.teardown(() => store.close());
  for (const key of ['p/\u{10FFFF}', 'p/\u{10FFFF}z', 'p', 'q', 'p0']) await store.put(key, Buffer.from(key));
  t.deepEqual(
    (await store.list('p/')).map((e) => e.key),
    ['p/\u{10FFFF}', 'p/\u{10FFFF}z'],
  );
  t.deepEqual(
    (await store.list('p/\u{10FFFF}')).map((e) => e.key),
    ['p/\u{10FFFF}', 'p/\u{10FFFF}z'],
  );
});

storeContract('sqlite (file, exclusive)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-store-'));
  const store = await openLocalStore(path.join(dir, 'store.db'), { exclusive: true });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return store;
});

test('an exclusive store keeps other users out until it is closed, and its writes stay', async (t) => {
  const file = path.join(tempDir(t), 'store.db');
  const owner = await openLocalStore(file, { exclusive: true });
  const version = await owner.put('x/k', Buffer.from('mine'));
  // The WAL index lives in the owner's memory: no shared-memory file for others to map.
  t.false(fs.existsSync(`${file}-shm`));
  // Refused when it opens the file (its schema check is a write): with what to do about it.
  const intruder = await openLocalStore(file, { busyTimeoutMs: 20 }).catch((error: unknown) => error);
  t.true(intruder instanceof StoreUnavailableError, String(intruder));
  t.regex((intruder as Error).message, /database is locked; another process has it open, such as a netctl daemon on the same --root/);
  await owner.close();
  const reopened = await openLocalStore(file);
  t.teardown(() => reopened.close());
  t.deepEqual(await reopened.get('x/k'), { key: 'x/k', value: Buffer.from('mine'), version });
});

test('two stores of one process on one file share versions and watches', async (t) => {
  const file = path.join(tempDir(t), 'store.db');
  const a = await openLocalStore(file);
  const b = await openLocalStore(file);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const seen: string[] = [];
  const watch = await a.watch('s/', (event) => seen.push(event.type === 'put' ? `put ${event.entry.key} ${event.entry.version}` : `delete ${event.key}`));
  t.teardown(() => watch.close());
  const v1 = await a.put('s/k', Buffer.from('a'));
  const v2 = await b.put('s/k', Buffer.from('b'), v1);
  await t.throwsAsync(a.put('s/k', Buffer.from('stale'), v1), { instanceOf: CasConflictError });
  await b.delete('s/k', v2);
  const v3 = await a.put('s/k', Buffer.from('c'), 0);
  t.true(v1 < v2 && v2 < v3);
  t.deepEqual(seen, [`put s/k ${v1}`, `put s/k ${v2}`, 'delete s/k', `put s/k ${v3}`]);
  t.is(a.revision(), v3);
  t.is(b.revision(), v3);
});

test('processes writing one file through compare-and-swap never lose an update', async (t) => {
  const file = path.join(tempDir(t), 'store.db');
  const setup = await openLocalStore(file);
  await setup.put('counter', Buffer.from('0'));
  await setup.close();
  const storeModule = path.resolve(__dirname, '..', '..', 'src', 'store', 'index.js');
  // Each child increments the counter 200 times (get, then put guarded by the version read) and
  // records every version it was handed; a lost update or a reused version fails the test.
  const script = `
    const { openLocalStore, CasConflictError } = require(${JSON.stringify(storeModule)});
    (async () => {
      const store = await openLocalStore(${JSON.stringify(file)});
      const versions = [];
      for (let done = 0, tries = 0; done < 200; tries++) {
        if (tries > 100000) throw new Error('too many conflicts');
        const e = await store.get('counter');
        try {
          versions.push(await store.put('counter', Buffer.from(String(Number(e.value) + 1)), e.version));
          done++;
        } catch (error) {
          if (!(error instanceof CasConflictError)) throw error;
        }
      }
      await store.close();
      process.stdout.write(JSON.stringify(versions));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const children = [0, 1, 2].map(() => spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  t.teardown(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const outputs = await Promise.all(
    children.map(
      (child) =>
        new Promise<number[]>((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error('a writer did not finish within 60 s')), 60_000);
          child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
          // 'close', not 'exit': a child's stdout may still hold data after it has exited.
          child.once('close', (code) => {
            clearTimeout(timer);
            if (code !== 0) return reject(new Error(`writer exited with ${code}`));
            try {
              resolve(JSON.parse(out) as number[]);
            } catch (error) {
              reject(new Error(`a writer printed no list of versions (${String(error)}): ${JSON.stringify(out)}`));
            }
          });
        }),
    ),
  );
  const store = await openLocalStore(file);
  t.teardown(() => store.close());
  t.is((await store.get('counter'))?.value.toString(), '600');
  const all = outputs.flat();
  t.is(new Set(all).size, 600, 'every acknowledged write got its own version');
  t.is((await store.get('counter'))?.version, Math.max(...all));
});

test('a file from the first store version (revision kept only on delete) still hands out larger versions', async (t) => {
  const file = path.join(tempDir(t), 'store.db');
  const db = new Database(file);
  db.exec(`
    CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
    INSERT INTO revision (id, value) VALUES (1, 3);
    INSERT INTO kv VALUES ('old/a', x'61', 2), ('old/b', x'62', 41);
  `);
  db.close();
  const store = await openLocalStore(file);
  t.teardown(() => store.close());
  t.is(store.revision(), 41);
  await t.throwsAsync(store.put('old/a', Buffer.from('x'), 3), { instanceOf: CasConflictError });
  t.is(await store.put('old/a', Buffer.from('x'), 2), 42);
  t.is(await store.put('new', Buffer.from('y')), 43);
});

test('the durability option picks synchronous=NORMAL or FULL in WAL mode', async (t) => {
  const dir = tempDir(t);
  for (const [durability, expected] of [
    [undefined, 1],
    ['process', 1],
    ['power', 2],
  ] as const) {
    const store = await openLocalStore(path.join(dir, `${durability}.db`), durability ? { durability } : {});
    const db = (store as unknown as { db: Database.Database }).db;
    t.is(db.pragma('synchronous', { simple: true }), expected, String(durability));
    t.is(db.pragma('journal_mode', { simple: true }), 'wal');
    await store.close();
  }
});

test('a watcher that throws fails neither the write nor the other watchers', async (t) => {
  const store = await openLocalStore(':memory:');
  t.teardown(() => store.close());
  const thrown = new Promise<unknown>((resolve) => {
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.once('uncaughtException', (error) => {
      for (const l of listeners) process.on('uncaughtException', l);
      resolve(error);
    });
  });
  const bad = await store.watch('', () => {
    throw new Error('watcher bug');
  });
  const seen: string[] = [];
  const good = await store.watch('', (event) => seen.push(event.type));
  t.true((await store.put('k', Buffer.from('v'))) > 0);
  t.deepEqual(seen, ['put']);
  t.regex(String(await thrown), /watcher bug/);
  await bad.close();
  await good.close();
});
