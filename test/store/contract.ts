// The behaviour every Store backend must show, registered once per backend so they cannot drift.
import test, { type ExecutionContext } from 'ava';
import { CasConflictError, StoreUnavailableError, type Store, type WatchEvent } from '../../src/store';
import { until } from '../helpers/until';

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
    // Events come in commit order, so a last write is a barrier: once its event is in, any wrongly
    // reported earlier one would be too. A second watch is the barrier for the one closed.
    const control: string[] = [];
    const controlWatch = await store.watch('w/', (event) => control.push(event.type === 'put' ? event.entry.key : `-${event.key}`));
    t.teardown(() => controlWatch.close());
    const v = await store.put('w/x', b('1'));
    await store.put('other/x', b('1'));
    await store.delete('w/x');
    await store.delete('w/never-existed');
    const last = await store.put('w/last', b('1'));
    await until('the last event', () => seen.some((e) => e.type === 'put' && e.entry.key === 'w/last'));
    await watch.close();
    await store.put('w/after-close', b('1'));
    await until('the write after close to reach a watch', () => control.includes('w/after-close'));
    t.deepEqual(seen, [
      { type: 'put', entry: { key: 'w/x', value: b('1'), version: v } },
      { type: 'delete', key: 'w/x' },
      { type: 'put', entry: { key: 'w/last', value: b('1'), version: last } },
    ]);
  });

  withStore('versions are store-wide: every write gets a larger version than any before it', async (t, store) => {
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(await store.put(`order/${i % 2}`, b(String(i))));
      seen.push((await store.commit([{ type: 'put', key: `order/x${i}`, value: b('x') }]))[0]!);
    }
    t.deepEqual([...seen].sort((x, y) => x - y), seen);
    t.is(new Set(seen).size, seen.length);
    t.is((await store.get('order/0'))?.version, seen[8]);
    t.is((await store.get('order/1'))?.version, seen[6]);
  });

  withStore('guarded deletes: absent guard, stale guard, and a deleted key is gone from lists', async (t, store) => {
    await t.notThrowsAsync(store.delete('d/missing', 0));
    const v = await store.put('d/k', b('1'));
    const absent = await t.throwsAsync(store.delete('d/k', 0), { instanceOf: CasConflictError });
    t.is(absent?.actualVersion, v);
    const missing = await t.throwsAsync(store.delete('d/missing', 7), { instanceOf: CasConflictError });
    t.is(missing?.actualVersion, 0);
    t.is((await store.get('d/k'))?.version, v);
    await store.delete('d/k', v);
    t.deepEqual(await store.list('d/'), []);
  });

  withStore('a failed commit names the first failed guard in op order and applies nothing', async (t, store) => {
    const v = await store.put('f/a', b('a'));
    await store.put('f/b', b('b'));
    const conflict = await t.throwsAsync(
      store.commit([
        { type: 'delete', key: 'f/a', expectVersion: v },
        { type: 'put', key: 'f/b', value: b('b2'), expectVersion: 0 },
        { type: 'put', key: 'f/c', value: b('c'), expectVersion: 5 },
      ]),
      { instanceOf: CasConflictError },
    );
    t.is(conflict?.key, 'f/b');
    t.is(conflict?.expectedVersion, 0);
    t.deepEqual(
      (await store.list('f/')).map((e) => [e.key, e.value.toString(), e.version > 0]),
      [
        ['f/a', 'a', true],
        ['f/b', 'b', true],
      ],
    );
    t.deepEqual(await store.commit([]), []);
  });

  withStore('binary values and non-ASCII keys round-trip', async (t, store) => {
    const value = Buffer.from([0, 255, 1, 254, 0x80, 0]);
    await store.put('bin/\u00fcber/\u{1F600}', value);
    await store.put('bin/empty', Buffer.alloc(0));
    t.deepEqual((await store.get('bin/\u00fcber/\u{1F600}'))?.value, value);
    t.is((await store.get('bin/empty'))?.value.length, 0);
    t.deepEqual(
      (await store.list('bin/')).map((e) => e.key),
      ['bin/empty', 'bin/\u00fcber/\u{1F600}'],
    );
  });

  withStore('list with an empty prefix shows exactly the stored keys, nothing internal', async (t, store) => {
    const v = await store.put('x/1', b('1'), 0);
    await store.put('x/1', b('2'), v);
    await store.commit([
      { type: 'put', key: 'y', value: b('y'), expectVersion: 0 },
      { type: 'delete', key: 'x/gone', expectVersion: 0 },
    ]);
    t.deepEqual(
      (await store.list('')).map((e) => e.key),
      ['x/1', 'y'],
    );
  });

  withStore('a watch sees each op of a commit, in order, with the committed versions', async (t, store) => {
    await store.put('cw/old', b('o'));
    const seen: WatchEvent[] = [];
    const watch = await store.watch('cw/', (event) => seen.push(event));
    t.teardown(() => watch.close());
    const versions = await store.commit([
      { type: 'put', key: 'cw/a', value: b('a'), expectVersion: 0 },
      { type: 'delete', key: 'cw/old' },
      { type: 'put', key: 'cw/b', value: b('b') },
    ]);
    await until('the last op\'s event', () => seen.some((e) => e.type === 'put' && e.entry.key === 'cw/b'));
    t.deepEqual(seen, [
      { type: 'put', entry: { key: 'cw/a', value: b('a'), version: versions[0]! } },
      { type: 'delete', key: 'cw/old' },
      { type: 'put', entry: { key: 'cw/b', value: b('b'), version: versions[2]! } },
    ]);
  });

  withStore('after close every operation fails with StoreUnavailableError', async (t, store) => {
    await store.put('c/1', b('1'));
    await store.close();
    await t.throwsAsync(store.get('c/1'), { instanceOf: StoreUnavailableError });
    await t.throwsAsync(store.put('c/2', b('2')), { instanceOf: StoreUnavailableError });
    await t.throwsAsync(store.list('c/'), { instanceOf: StoreUnavailableError });
    await t.notThrowsAsync(store.close());
  });
}
