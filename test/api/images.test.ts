import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { imageListJson, imageMatches } from '../../src/api/images';
import { parseFilters } from '../../src/api/filters';
import { Router } from '../../src/api/router';
import type { Image } from '../../src/images';

const image = (id: string, tags: string[], created: string): Image => ({ id: id.padEnd(64, '0'), tags, created, size: 10, comment: '', rootfs: `/r/${id}`, builtIn: false });
const busybox = image('b', ['busybox:latest'], '2026-01-01T00:00:00Z');
const app = image('a', ['team/app:v1'], '2026-02-01T00:00:00Z');
const dangling = image('d', [], '2026-03-01T00:00:00Z');
const all = [busybox, app, dangling];
const find = (reference: string): Image | undefined => all.find((i) => i.tags.includes(reference.includes(':') ? reference : `${reference}:latest`));

const pick = (filters: Record<string, string[]>): string[] => {
  const parsed = parseFilters(JSON.stringify(filters), ['dangling', 'label', 'reference', 'before', 'since']);
  return all.filter((i) => imageMatches(i, parsed, find)).map((i) => i.id[0]!);
};

test('image list filters: reference globs on name and name:tag, dangling, before/since, label (images have none)', (t) => {
  t.deepEqual(pick({}), ['b', 'a', 'd']);
  t.deepEqual(pick({ reference: ['busybox'] }), ['b']);
  t.deepEqual(pick({ reference: ['team/*'] }), ['a']);
  t.deepEqual(pick({ reference: ['*'] }), ['b'], 'a * stays within one path segment, as Go\'s path.Match');
  t.deepEqual(pick({ reference: ['team/app:v?'] }), ['a']);
  t.deepEqual(pick({ dangling: ['true'] }), ['d']);
  t.deepEqual(pick({ dangling: ['false'] }), ['b', 'a']);
  t.deepEqual(pick({ since: ['busybox'] }), ['a', 'd']);
  t.deepEqual(pick({ before: ['team/app:v1'] }), ['b']);
  t.deepEqual(pick({ label: ['x'] }), []);
  t.throws(() => pick({ since: ['nope'] }), { message: 'No such image: nope' });
  t.throws(() => pick({ dangling: ['maybe'] }), { message: /invalid value "maybe" for filter 'dangling'/ });
});

test("list JSON: Docker's shape, a dangling image as <none>:<none>", (t) => {
  t.deepEqual(imageListJson(dangling), {
    Containers: -1, Created: 1772323200, Id: `sha256:${dangling.id}`, Labels: null, ParentId: '', RepoDigests: ['<none>@<none>'], RepoTags: ['<none>:<none>'], SharedSize: -1, Size: 10, VirtualSize: 10,
  });
  t.like(imageListJson(app), { RepoTags: ['team/app:v1'], RepoDigests: null });
});

test('a {name*} route segment takes names with slashes; fixed segments still match exactly', async (t) => {
  const router = new Router()
    .add('GET', '/images/json', () => ({ status: 200, body: 'list' }))
    .add('GET', '/images/{name*}/json', (r) => ({ status: 200, body: `inspect ${r.params['name']}` }))
    .add('DELETE', '/images/{name*}', (r) => ({ status: 200, body: `delete ${r.params['name']}` }));
  const server = http.createServer(router.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const { port } = server.address() as AddressInfo;
  const get = async (method: string, path: string): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return `${response.status} ${(await response.text()).trim()}`;
  };
  t.is(await get('GET', '/v1.41/images/json'), '200 list');
  t.is(await get('GET', '/images/busybox/json'), '200 inspect busybox');
  t.is(await get('GET', '/images/registry.example.com:5000/team/app:v1/json'), '200 inspect registry.example.com:5000/team/app:v1');
  t.is(await get('DELETE', '/images/team/app'), '200 delete team/app');
  t.is(await get('DELETE', '/images/team%2Fapp'), '200 delete team/app');
  t.regex(await get('GET', '/images'), /^404/);
});
