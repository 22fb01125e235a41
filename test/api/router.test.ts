// The router's handling of the /v1.NN prefix, as dockerd 20.10 answers it (checked side by side).
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '../../src/api/router';

test('a versioned path within 1.12 to 1.41 is served; a newer or older version is a 400 saying which versions are spoken, on a route that exists', async (t) => {
  const router = new Router().add('GET', '/version', (r) => ({ status: 200, body: { asked: r.apiVersion ?? null } }));
  const server = http.createServer(router.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const { port } = server.address() as AddressInfo;
  const get = async (path: string): Promise<[number, unknown]> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return [response.status, await response.json()];
  };
  t.deepEqual(await get('/version'), [200, { asked: null }]);
  t.deepEqual(await get('/v1.41/version'), [200, { asked: '1.41' }]);
  t.deepEqual(await get('/v1.12/version'), [200, { asked: '1.12' }]);
  t.deepEqual(await get('/v1.42/version'), [400, { message: 'client version 1.42 is too new. Maximum supported API version is 1.41' }]);
  t.deepEqual(await get('/v1.100/version'), [400, { message: 'client version 1.100 is too new. Maximum supported API version is 1.41' }]);
  t.deepEqual(await get('/v2.0/version'), [400, { message: 'client version 2.0 is too new. Maximum supported API version is 1.41' }]);
  t.deepEqual(await get('/v1.99/nonexistent'), [404, { message: 'page not found: /nonexistent' }], 'an unknown path is a 404 whatever the version');
  t.deepEqual(await get('/v1.11/version'), [400, { message: 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version' }]);
});
