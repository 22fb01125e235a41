// The global etcd store against a real etcd: the shared contract, other clients' changes,
// concurrent compare-and-swap, lost replies, partitions, and an etcd that goes away and comes back.
import test from 'ava';
import { Etcd3 } from 'etcd3';
import net from 'node:net';
import { CasConflictError, GlobalStore, openGlobalStore, StoreUnavailableError, type WatchEvent } from '../../src/store';
import { storeContract } from '../../test/store/contract';
import { until } from '../../test/helpers/until';
import { startEtcd } from '../helpers/etcd';
import { startRelay } from './proxy';

const b = (text: string): Buffer => Buffer.from(text);

/**
 * An endpoint nothing listens on, and nothing will: a privileged port, outside the range ports are
 * handed out from. (A released ephemeral port was once taken by another test's etcd, and the store
 * wrote to that etcd and read from its own.)
 */
async function deadEndpoint(): Promise<string> {
  const port = 1;
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
  if (!refused) throw new Error(`something listens on 127.0.0.1:${port}: the dead-endpoint tests need it unused`);
  return `http://127.0.0.1:${port}`;
}

const teardowns: Array<() => Promise<void> | void> = [];
test.after.always(async () => {
  for (const fn of teardowns.reverse()) await fn();
});
// One etcd for the contract tests; every store gets its own key prefix, so tests stay independent.
const shared = startEtcd({ teardown: (fn) => teardowns.push(fn) });
shared.catch(() => undefined); // reported by the tests that await it
let prefixes = 0;
storeContract('etcd', async () => new GlobalStore({ endpoints: [(await shared).endpoint], prefix: `/contract-${prefixes++}/` }));

test("etcd: a watch sees another client's changes", async (t) => {
  const etcd = await startEtcd(t);
  const a = new GlobalStore({ endpoints: [etcd.endpoint] });
  const b2 = new GlobalStore({ endpoints: [etcd.endpoint] });
  t.teardown(async () => {
    await a.close();
    await b2.close();
  });
  const seen: string[] = [];
  const watch = await a.watch('nets/', (event) => seen.push(event.type === 'put' ? `put ${event.entry.key}` : `delete ${event.key}`));
  t.teardown(() => watch.close());
  await b2.put('nets/n1', b('{}'));
  await b2.put('other/n1', b('{}'));
  await b2.delete('nets/n1');
  // Events come in revision order: once the last write's is in, a wrongly reported other/n1 would be too.
  await b2.put('nets/last', b('{}'));
  await until('the last event', () => seen.includes('put nets/last'));
  t.deepEqual(seen, ['put nets/n1', 'delete nets/n1', 'put nets/last']);
});

test('etcd: stores with different prefixes on one etcd never see each other', async (t) => {
  const etcd = await startEtcd(t);
  const a = new GlobalStore({ endpoints: [etcd.endpoint], prefix: '/cluster-a/' });
  const c = new GlobalStore({ endpoints: [etcd.endpoint], prefix: '/cluster-a-2/' });
  t.teardown(async () => {
    await a.close();
    await c.close();
  });
  const seen: WatchEvent[] = [];
  const watch = await a.watch('', (event) => seen.push(event));
  t.teardown(() => watch.close());
  await c.put('k', b('c'), 0);
  await a.put('k', b('a'), 0);
  t.deepEqual(
    (await a.list('')).map((e) => [e.key, e.value.toString()]),
    [['k', 'a']],
  );
  t.is((await c.get('k'))?.value.toString(), 'c');
  // c's write came first: had the watch seen it, it would be in before a's.
  await until('the event of a', () => seen.length >= 1);
  t.deepEqual(
    seen.map((e) => (e.type === 'put' ? `put ${e.entry.key}=${e.entry.value.toString()}` : `delete ${e.key}`)),
    ['put k=a'],
  );
});

test('etcd: of two clients racing a create-only write, exactly one wins', async (t) => {
  const etcd = await startEtcd(t);
  const clients = [new GlobalStore({ endpoints: [etcd.endpoint] }), new GlobalStore({ endpoints: [etcd.endpoint] })];
  t.teardown(async () => {
    for (const c of clients) await c.close();
  });
  for (let round = 0; round < 20; round++) {
    const results = await Promise.allSettled(clients.map((c, i) => c.put(`race/${round}`, b(String(i)), 0)));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    t.true(loser.reason instanceof CasConflictError);
    t.is((await clients[0]!.get(`race/${round}`))?.value.toString(), String(winner));
  }
});

test('etcd: clients incrementing one counter through compare-and-swap never lose an update', async (t) => {
  const etcd = await startEtcd(t);
  const clients = [0, 1, 2].map(() => new GlobalStore({ endpoints: [etcd.endpoint] }));
  t.teardown(async () => {
    for (const c of clients) await c.close();
  });
  await clients[0]!.put('counter', b('0'));
  const versions: number[] = [];
  await Promise.all(
    clients.map(async (store) => {
      for (let done = 0, tries = 0; done < 30; tries++) {
        if (tries > 5000) throw new Error('too many conflicts');
        const entry = (await store.get('counter'))!;
        try {
          versions.push(await store.put('counter', b(String(Number(entry.value.toString()) + 1)), entry.version));
          done++;
        } catch (error) {
          if (!(error instanceof CasConflictError)) throw error;
        }
      }
    }),
  );
  const final = await clients[1]!.get('counter');
  t.is(final?.value.toString(), '90');
  t.is(new Set(versions).size, 90);
  t.is(final?.version, Math.max(...versions));
});

test('etcd: a guarded write whose reply is lost is retried without a false conflict', async (t) => {
  const etcd = await startEtcd(t);
  const relay = await startRelay(etcd.endpoint, t);
  const store = new GlobalStore({ endpoints: [relay.endpoint], retryWindowMs: 10_000, attemptTimeoutMs: 500 });
  t.teardown(() => store.close());
  const direct = new GlobalStore({ endpoints: [etcd.endpoint] });
  t.teardown(() => direct.close());
  await store.put('warm', b('up'), 0); // connection and marker lease are set up
  const before = (await direct.list('')).length;

  relay.mode('swallow-replies');
  const put = store.put('lost-reply', b('mine'), 0);
  const outcome = put.then(
    (version) => ({ version }),
    (error: unknown) => ({ error }),
  );
  // The request reached etcd and was applied; only the answer went missing.
  await until('etcd to answer the write', () => relay.swallowed > 0);
  await until('the first attempt to be applied by etcd', async () => (await direct.get('lost-reply')) !== undefined);
  relay.mode('pass');
  const result = await outcome;
  t.false('error' in result, `the put failed: ${'error' in result ? String(result.error) : ''}`);
  const stored = await direct.get('lost-reply');
  t.is(stored?.value.toString(), 'mine');
  t.is('version' in result ? result.version : undefined, stored?.version);
  t.is((await direct.list('')).length, before + 1);
  // A real conflict is still one.
  await t.throwsAsync(store.put('lost-reply', b('again'), 0), { instanceOf: CasConflictError });
});

test('etcd: a watch cut off by a partition resumes and reports what it missed, in order, once', async (t) => {
  const etcd = await startEtcd(t);
  const relay = await startRelay(etcd.endpoint, t);
  const watching = new GlobalStore({ endpoints: [relay.endpoint], retryWindowMs: 5000, attemptTimeoutMs: 500 });
  const writer = new GlobalStore({ endpoints: [etcd.endpoint] });
  t.teardown(async () => {
    await watching.close();
    await writer.close();
  });
  const describe = (event: WatchEvent): string => (event.type === 'put' ? `put ${event.entry.key}=${event.entry.value.toString()}` : `delete ${event.key}`);
  const seen: string[] = [];
  const errors: Error[] = [];
  const watch = await watching.watch('w/', (event) => seen.push(describe(event)), (error) => errors.push(error));
  t.teardown(() => watch.close());
  // A watch straight on etcd: once it has the events, etcd has sent them to every watcher, and a
  // leaky partition would have let them through by then (but for the relay's hop).
  const direct: string[] = [];
  const control = await writer.watch('w/', (event) => direct.push(describe(event)));
  t.teardown(() => control.close());
  await writer.put('w/1', b('a'));
  await until('the first event', () => seen.length === 1);
  relay.mode('cut');
  await writer.put('w/2', b('b'));
  await writer.put('w/1', b('c'));
  await writer.delete('w/2');
  await until('etcd to send the events', () => direct.length === 4);
  t.is(seen.length, 1, 'nothing arrives through the partition');
  relay.mode('pass');
  await until('the missed events', () => seen.length >= 4, 20_000);
  await writer.put('w/3', b('d'));
  // Events come in revision order: any repeat of the missed ones would come before the live one.
  await until('the live event', () => seen.includes('put w/3=d'));
  t.deepEqual(seen, ['put w/1=a', 'put w/2=b', 'put w/1=c', 'delete w/2', 'put w/3=d']);
  t.deepEqual(errors, []);
});

test('etcd: with one of two endpoints dead, every operation still succeeds promptly', async (t) => {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [await deadEndpoint(), etcd.endpoint], retryWindowMs: 5000, attemptTimeoutMs: 1000 });
  t.teardown(() => store.close());
  const started = Date.now();
  for (let i = 0; i < 30; i++) {
    const v = await store.put(`multi/${i}`, b(String(i)), 0);
    t.is((await store.get(`multi/${i}`))?.version, v);
  }
  t.is((await store.list('multi/')).length, 30);
  t.true(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('etcd: when etcd is down, operations and watches fail with StoreUnavailableError within the retry window', async (t) => {
  const etcd = await startEtcd(t);
  // Written with the default timeouts: on a loaded machine a first connection may take longer
  // than the 500 ms attempts of the store under test.
  const seeder = new GlobalStore({ endpoints: [etcd.endpoint] });
  await seeder.put('before', b('1'));
  await seeder.close();
  const store = new GlobalStore({ endpoints: [etcd.endpoint], retryWindowMs: 1500, attemptTimeoutMs: 500 });
  t.teardown(() => store.close());
  await etcd.stop();
  for (const [name, operation] of [
    ['get', () => store.get('before')],
    ['put', () => store.put('x', b('1'), 0)],
    ['commit', () => store.commit([{ type: 'delete', key: 'before' }])],
    ['list', () => store.list('')],
    ['watch', () => store.watch('', () => undefined)],
  ] as const) {
    const started = Date.now();
    const error = await t.throwsAsync<StoreUnavailableError>(operation() as Promise<unknown>, { instanceOf: StoreUnavailableError }, name);
    const took = Date.now() - started;
    t.true(took >= 1400 && took < 5000, `${name} took ${took} ms`);
    t.regex(error?.message ?? '', new RegExp(`etcd at ${etcd.endpoint.replace(/[.]/g, '\\.')} did not answer .*check that etcd is running`), name);
  }
});

test('etcd: openGlobalStore on an endpoint where nothing listens fails within the retry window', async (t) => {
  const started = Date.now();
  const endpoint = await deadEndpoint();
  await t.throwsAsync(openGlobalStore({ endpoints: [endpoint], retryWindowMs: 1000, attemptTimeoutMs: 300 }), {
    instanceOf: StoreUnavailableError,
    message: new RegExp(`etcd at ${endpoint.replace(/[.]/g, '\\.')} did not answer`),
  });
  t.true(Date.now() - started < 5000);
});

test('etcd: an operation issued while etcd restarts succeeds, and nothing acknowledged is lost', async (t) => {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [etcd.endpoint], retryWindowMs: 20_000, attemptTimeoutMs: 1000 });
  t.teardown(() => store.close());
  const acknowledged: string[] = [];
  for (let i = 0; i < 50; i++) {
    await store.put(`acked/${i}`, b(String(i)));
    acknowledged.push(`acked/${i}`);
  }
  await etcd.stop();
  const during = store.put('during-restart', b('x'), 0);
  await new Promise((r) => setTimeout(r, 500));
  await etcd.start();
  await during;
  const keys = (await store.list('acked/')).map((e) => e.key);
  t.deepEqual(keys.sort(), acknowledged.sort());
  t.is((await store.get('during-restart'))?.value.toString(), 'x');
});

test('etcd: writers running through a kill -9 and restart of etcd lose no acknowledged write', async (t) => {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [etcd.endpoint], retryWindowMs: 20_000, attemptTimeoutMs: 1000 });
  t.teardown(() => store.close());
  const acknowledged = new Map<string, number>();
  let stop = false;
  const writers = [0, 1, 2].map(async (w) => {
    for (let i = 0; !stop && i < 100_000; i++) {
      const key = `k9/${w}/${i}`;
      acknowledged.set(key, await store.put(key, b(key), 0));
    }
  });
  await until('some writes', () => acknowledged.size >= 100);
  await etcd.kill('SIGKILL');
  const atKill = acknowledged.size;
  await new Promise((r) => setTimeout(r, 700));
  await etcd.start();
  await until('writes after the restart', () => acknowledged.size >= atKill + 100, 20_000);
  stop = true;
  await Promise.all(writers);
  const stored = new Map((await store.list('k9/')).map((e) => [e.key, e.version]));
  for (const [key, version] of acknowledged) {
    if (stored.get(key) !== version) {
      t.fail(`${key}: acknowledged at version ${version}, stored ${stored.get(key)}`);
      return;
    }
  }
  t.is(stored.size, acknowledged.size);
});

test('etcd: commit markers stay hidden and go away when the store closes', async (t) => {
  const etcd = await startEtcd(t);
  const raw = new Etcd3({ hosts: etcd.endpoint });
  t.teardown(() => raw.close());
  const store = new GlobalStore({ endpoints: [etcd.endpoint], prefix: '/m/' });
  await Promise.all(Array.from({ length: 8 }, (_, i) => store.put(`key/${i}`, b('v'), 0)));
  const internal = (await raw.getAll().prefix('/m/').keys()).filter((k) => k.startsWith('/m/\0'));
  t.true(internal.length >= 1 && internal.length <= 8, `${internal.length} markers`);
  t.deepEqual(
    (await store.list('')).map((e) => e.key),
    Array.from({ length: 8 }, (_, i) => `key/${i}`),
  );
  await store.close();
  t.deepEqual(await raw.getAll().prefix('/m/').keys(), Array.from({ length: 8 }, (_, i) => `/m/key/${i}`));
});

test('etcd: a leased key outlives its TTL while kept alive, and goes on release, on close, and with its lease (onLost hears that)', async (t) => {
  const etcd = await startEtcd(t);
  const a = new GlobalStore({ endpoints: [etcd.endpoint] });
  const other = new GlobalStore({ endpoints: [etcd.endpoint] });
  const raw = new Etcd3({ hosts: etcd.endpoint });
  t.teardown(async () => {
    await a.close();
    await other.close();
    raw.close();
  });
  const lost: string[] = [];
  const first = await a.putLeased('nodes/first', b('1'), 1, () => lost.push('first'));
  t.true(first.healthy);
  // Three TTLs: without keep-alives the key would be gone.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  t.deepEqual((await other.get('nodes/first'))?.value, b('1'));
  await first.release();
  t.is(await other.get('nodes/first'), undefined);
  t.false(first.healthy);

  await a.putLeased('nodes/second', b('2'), 5, () => lost.push('second'));
  const [kv] = (await raw.get('/netctl/nodes/second').exec()).kvs;
  await raw.leaseClient.leaseRevoke({ ID: kv!.lease });
  await until('the revoked lease reported lost', () => lost.includes('second'), 10_000);
  t.is(await other.get('nodes/second'), undefined);

  await a.putLeased('nodes/third', b('3'), 30, () => lost.push('third'));
  await a.close();
  t.is(await other.get('nodes/third'), undefined);
  t.deepEqual(lost, ['second']);
});
