// The behaviour every Store backend must show, registered once per backend so they cannot drift.
import test, { type ExecutionContext } from 'ava';
import { CasConflictError, type Store, type WatchEvent } from '../../src/store';

const b = (text: string): Buffer => Buffer.from(text);

export function storeContract(backend: string, open: () => Promise<Store>): void {
  const withStore = (title: string, body: (t: ExecutionContext, store: Store) => Promise<void>): void => {
    test(`${backend}: ${title}`, async (t) => {
      const store = await open();
      t.teardown(() => store.close());
      await body(t, store);
    });
  };

  withStore('put, get, overwrite and delete', async (t, store) => {
    t.is(await store.get('net/a'), undefined);
    const v1 = await store.put('net/a', b('one'));
    t.true(v1 > 0);
    t.deepEqual(await store.get('net/a'), { key: 'net/a', value: b('one'), version: v1 });
    const v2 = await store.put('net/a', b('two'));
    t.true(v2 > v1);
    t.is((await store.get('net/a'))?.value.toString(), 'two');
    await store.delete('net/a');
    t.is(await store.get('net/a'), undefined);
    await t.notThrowsAsync(store.delete('net/a'));
  });

  withStore('versions keep growing across delete and re-create, so a stale guard fails', async (t, store) => {
    const first = await store.put('k', b('x'));
    await store.delete('k');
    const again = await store.put('k', b('y'), 0);
    t.true(again > first);
    await t.throwsAsync(store.put('k', b('z'), first), { instanceOf: CasConflictError });
  });

  withStore('compare-and-swap: absent guard, version guard, conflicts name the key', async (t, store) => {
    const v = await store.put('cas', b('1'), 0);
    const conflict = await t.throwsAsync(store.put('cas', b('again'), 0), { instanceOf: CasConflictError });
    t.is(conflict?.key, 'cas');
    t.is(conflict?.actualVersion, v);
    t.regex(conflict?.message ?? '', /store conflict on "cas": expected version \(absent\)/);
    const v2 = await store.put('cas', b('2'), v);
    await t.throwsAsync(store.put('cas', b('3'), v), { instanceOf: CasConflictError });
    await t.throwsAsync(store.delete('cas', v), { instanceOf: CasConflictError });
    await store.delete('cas', v2);
    t.is(await store.get('cas'), undefined);
  });

  withStore('commit applies every op or none', async (t, store) => {
    const va = await store.put('m/a', b('a'));
    await store.put('m/b', b('b'));
    const conflict = await t.throwsAsync(
      store.commit([
        { type: 'put', key: 'm/c', value: b('c'), expectVersion: 0 },
        { type: 'delete', key: 'm/b' },
        { type: 'put', key: 'm/a', value: b('a2'), expectVersion: va + 1000 },
      ]),
      { instanceOf: CasConflictError },
    );
    t.is(conflict?.key, 'm/a');
    t.is(await store.get('m/c'), undefined);
    t.is((await store.get('m/b'))?.value.toString(), 'b');
    const versions = await store.commit([
      { type: 'put', key: 'm/c', value: b('c'), expectVersion: 0 },
      { type: 'delete', key: 'm/b' },
      { type: 'put', key: 'm/a', value: b('a2'), expectVersion: va },
    ]);
    t.is(versions.length, 3);
    t.is(versions[1], 0);
    t.is((await store.get('m/a'))?.version, versions[2]);
    t.deepEqual(
      (await store.list('m/')).map((e) => e.key),
      ['m/a', 'm/c'],
    );
  });

  withStore('list by prefix is sorted and does not bleed into longer prefixes', async (t, store) => {
    for (const key of ['a/bc', 'a/b/2', 'a/b/1', 'a/b', 'b/1', 'a/b/\u00e9']) await store.put(key, b(key));
    t.deepEqual(
      (await store.list('a/b/')).map((e) => e.key),
      ['a/b/1', 'a/b/2', 'a/b/\u00e9'],
    );
    t.deepEqual(
      (await store.list('a/b')).map((e) => e.key),
      ['a/b', 'a/b/1', 'a/b/2', 'a/b/\u00e9', 'a/bc'],
    );
    t.deepEqual(await store.list('zzz/'), []);
  });

  withStore('watch reports puts and deletes under its prefix only, after they commit', async (t, store) => {
    const seen: WatchEvent[] = [];
    const watch = await store.watch('w/', (event) => seen.push(event));
    const v = await store.put('w/x', b('1'));
    await store.put('other/x', b('1'));
    await store.delete('w/x');
    await store.delete('w/never-existed');
    const deadline = Date.now() + 5000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await watch.close();
    await store.put('w/after-close', b('1'));
    await new Promise((r) => setTimeout(r, 50));
    t.deepEqual(seen, [
      { type: 'put', entry: { key: 'w/x', value: b('1'), version: v } },
      { type: 'delete', key: 'w/x' },
    ]);
  });
}
