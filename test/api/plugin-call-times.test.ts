// The plugin socket's `GET /debug/calls`: the time spent answering each implemented method, read
// by the plugin benchmark. Served by the real listener on a unix socket of the test's own.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { type CallTimes, pluginListener } from '../../src/api/plugin/server';
import { silent } from '../helpers/core';

function request(socketPath: string, method: string, urlPath: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ socketPath, method, path: urlPath }, (incoming) => {
      let text = '';
      incoming.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      incoming.on('end', () => resolve({ status: incoming.statusCode!, body: JSON.parse(text) as unknown }));
    });
    outgoing.on('error', reject);
    outgoing.end(method === 'POST' ? '{}' : undefined);
  });
}

test('GET /debug/calls gives count and time per implemented method, failures included, and nothing for unknown paths', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-calltimes-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'p.sock');
  const listener = pluginListener(
    {
      NetworkDriver: {
        Slow: () => new Promise((resolve) => setTimeout(() => resolve({}), 30)),
        Fails: async () => {
          throw new Error('no');
        },
      },
    },
    silent,
  );
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  t.deepEqual((await request(socketPath, 'GET', '/debug/calls')).body, {}, 'nothing answered yet');
  t.is((await request(socketPath, 'POST', '/NetworkDriver.Slow')).status, 200);
  t.is((await request(socketPath, 'POST', '/NetworkDriver.Slow')).status, 200);
  t.is((await request(socketPath, 'POST', '/NetworkDriver.Fails')).status, 500);
  t.is((await request(socketPath, 'POST', '/NetworkDriver.Missing')).status, 404);
  t.is((await request(socketPath, 'POST', '/debug/calls')).status, 404, 'the counters are read with GET only');
  const reply = await request(socketPath, 'GET', '/debug/calls');
  t.is(reply.status, 200);
  const times = reply.body as CallTimes;
  t.deepEqual(Object.keys(times).sort(), ['NetworkDriver.Fails', 'NetworkDriver.Slow']);
  t.is(times['NetworkDriver.Slow']!.count, 2);
  t.true(times['NetworkDriver.Slow']!.totalMs >= 55, `two calls of 30 ms took ${times['NetworkDriver.Slow']!.totalMs} ms`);
  t.is(times['NetworkDriver.Fails']!.count, 1);
});
