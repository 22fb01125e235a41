// The global etcd store against a real etcd: the shared contract, other clients' changes,
// concurrent compare-and-swap, and an etcd that goes away and comes back.
import test from 'ava';
import { CasConflictError, GlobalStore, StoreUnavailableError } from '../../src/store';
import { storeContract } from '../../test/store/contract';
import { startEtcd } from '../helpers/etcd';

const teardowns: Array<() => Promise<void> | void> = [];
test.after.always(async () => {
  for (const fn of teardowns.reverse()) await fn();
});
// One etcd for the contract tests; every store gets its own key prefix, so tests stay independent.
const shared = startEtcd({ teardown: (fn) => teardowns.push(fn) });
let prefixes = 0;
storeContract('etcd', async () => new GlobalStore({ endpoints: [(await shared).endpoint], prefix: `/contract-${prefixes++}/` }));

test("etcd: a watch sees another client's changes", async (t) => {
  const etcd = await startEtcd(t);
  const a = new GlobalStore({ endpoints: [etcd.endpoint] });
  const b = new GlobalStore({ endpoints: [etcd.endpoint] });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const seen: string[] = [];
  const watch = await a.watch('nets/', (event) => seen.push(event.type === 'put' ? `put ${event.entry.key}` : `delete ${event.key}`));
  t.teardown(() => watch.close());
  await b.put('nets/n1', Buffer.from('{}'));
  await b.delete('nets/n1');
  const deadline = Date.now() + 5000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(seen, ['put nets/n1', 'delete nets/n1']);
});

test('etcd: of two clients racing a create-only write, exactly one wins', async (t) => {
  const etcd = await startEtcd(t);
  const clients = [new GlobalStore({ endpoints: [etcd.endpoint] }), new GlobalStore({ endpoints: [etcd.endpoint] })];
  t.teardown(async () => {
    for (const c of clients) await c.close();
  });
  for (let round = 0; round < 20; round++) {
    const results = await Promise.allSettled(clients.map((c, i) => c.put(`race/${round}`, Buffer.from(String(i)), 0)));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    t.true(loser.reason instanceof CasConflictError);
  }
});

test('etcd: when etcd is down an operation fails with StoreUnavailableError within the retry window', async (t) => {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [etcd.endpoint], retryWindowMs: 1500, attemptTimeoutMs: 500 });
  t.teardown(() => store.close());
  await store.put('before', Buffer.from('1'));
  await etcd.stop();
  const started = Date.now();
  const error = await t.throwsAsync(store.get('before'), { instanceOf: StoreUnavailableError });
  t.true(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
  t.regex(error?.message ?? '', /etcd at http:\/\/127\.0\.0\.1:\d+ did not answer .*check that etcd is running/);
});

test('etcd: an operation issued while etcd restarts succeeds, and nothing acknowledged is lost', async (t) => {
  const etcd = await startEtcd(t);
  const store = new GlobalStore({ endpoints: [etcd.endpoint], retryWindowMs: 20_000, attemptTimeoutMs: 1000 });
  t.teardown(() => store.close());
  const acknowledged: string[] = [];
  for (let i = 0; i < 50; i++) {
    await store.put(`acked/${i}`, Buffer.from(String(i)));
    acknowledged.push(`acked/${i}`);
  }
  await etcd.stop();
  const during = store.put('during-restart', Buffer.from('x'));
  await new Promise((r) => setTimeout(r, 500));
  await etcd.start();
  await during;
  const keys = (await store.list('acked/')).map((e) => e.key);
  t.deepEqual(keys.sort(), acknowledged.sort());
  t.is((await store.get('during-restart'))?.value.toString(), 'x');
});
