// require('netctl') loads neither etcd's client nor SQLite's: each comes with the first store
// that needs it, and then works. Checked in a fresh process, whose module cache starts empty.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ENTRY = path.resolve(__dirname, '..', '..', 'src', 'index.js');
const HEAVY = /node_modules\/(etcd3|better-sqlite3|@grpc)\//;

/** Runs `script` in a new Node process after require(ENTRY) as `netctl`; returns the heavy modules it loaded, and what the script printed. */
function run(script: string): { heavy: string[]; printed: string } {
  const program = `
    const netctl = require(${JSON.stringify(ENTRY)});
    (async () => {
      const printed = await (async () => { ${script} })();
      const heavy = [...new Set(Object.keys(require.cache).filter((k) => ${HEAVY}.test(k)).map((k) => ${HEAVY}.exec(k)[1]))].sort();
      console.log(JSON.stringify({ heavy, printed: String(printed ?? '') }));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 30_000 })) as { heavy: string[]; printed: string };
}

test('the package entry loads neither etcd3 nor better-sqlite3', (t) => {
  t.deepEqual(run('return Object.keys(netctl).length').heavy, []);
});

test('a local store loads better-sqlite3 when opened, and only it', (t) => {
  const { heavy, printed } = run(`
    const store = await netctl.openLocalStore(':memory:');
    await store.put('k', Buffer.from('v'));
    const value = (await store.get('k')).value.toString();
    await store.close();
    return value;`);
  t.is(printed, 'v');
  t.deepEqual(heavy, ['better-sqlite3']);
});

test('a global store loads etcd3 when made (no etcd needed: it does no I/O until used)', (t) => {
  const { heavy, printed } = run(`
    const store = new netctl.GlobalStore({ endpoints: ['http://127.0.0.1:1'] });
    await store.close();
    return store.scope;`);
  t.is(printed, 'global');
  t.true(heavy.includes('etcd3'));
  t.false(heavy.includes('better-sqlite3'));
});
