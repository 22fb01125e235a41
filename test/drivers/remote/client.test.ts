// The plugin HTTP client against a plugin served in the test: what goes on the wire, and how
// error answers, malformed answers, a hung plugin and one not up yet come back.
import http from 'node:http';
import path from 'node:path';
import test from 'ava';
import { backoffMs, PluginClient, PluginError } from '../../../src/drivers/remote/client';
import { Plugin } from '../../../src/drivers/remote/plugin';
import { HANG, pluginDir, reply, startTestPlugin } from '../../helpers/plugin-server';

function setup(t: Parameters<typeof pluginDir>[0]): { socketPath: string; client: (options?: ConstructorParameters<typeof PluginClient>[2]) => PluginClient } {
  const socketPath = path.join(pluginDir(t), 'p.sock');
  return {
    socketPath,
    client: (options = {}) => {
      const client = new PluginClient('p', { kind: 'unix', socketPath }, options);
      t.teardown(() => client.close());
      return client;
    },
  };
}

test('a call is POST /Method with Docker\'s Accept header, its JSON body and a newline; no arguments: an empty body', async (t) => {
  const { socketPath, client } = setup(t);
  const plugin = await startTestPlugin(t, socketPath, ['NetworkDriver'], { 'NetworkDriver.Leave': () => ({}) });
  const c = client();
  t.deepEqual(await c.call('Plugin.Activate'), { Implements: ['NetworkDriver'] });
  t.deepEqual(await c.call('NetworkDriver.Leave', { NetworkID: 'n', EndpointID: 'e' }), {});
  t.is(plugin.calls[0]!.raw, '');
  t.is(plugin.calls[1]!.raw, '{"NetworkID":"n","EndpointID":"e"}\n');
  t.is(plugin.calls[1]!.headers['accept'], 'application/vnd.docker.plugins.v1.2+json');
  t.is(plugin.calls[1]!.headers['host'], 'plugin.moby.localhost');
});

test('an error answer names the plugin and the method and carries the plugin\'s Err, else its body', async (t) => {
  const { socketPath, client } = setup(t);
  await startTestPlugin(t, socketPath, [], {
    'NetworkDriver.CreateNetwork': () => reply(500, { Err: 'subnet overlaps' }),
    'NetworkDriver.Join': () => reply(400, 'bad request text'),
  });
  const c = client();
  const err = await t.throwsAsync(c.call('NetworkDriver.CreateNetwork', {}), { instanceOf: PluginError, message: 'plugin "p" NetworkDriver.CreateNetwork failed: subnet overlaps' });
  t.is(err!.status, 500);
  await t.throwsAsync(c.call('NetworkDriver.Join', {}), { message: 'plugin "p" NetworkDriver.Join failed: bad request text' });
  const missing = await t.throwsAsync(c.call('NetworkDriver.Nothing', {}), { instanceOf: PluginError, message: 'plugin "p" does not implement NetworkDriver.Nothing (404)' });
  t.true(missing!.notImplemented);
});

test('malformed JSON, a 200 with Err (or Error for IPAM) and answers of the wrong shape are errors naming the plugin', async (t) => {
  const { socketPath } = setup(t);
  await startTestPlugin(t, socketPath, ['NetworkDriver', 'IpamDriver'], {
    'NetworkDriver.GetCapabilities': () => reply(200, '{"Scope": "loc'),
    'NetworkDriver.Leave': () => ({ Err: 'no such endpoint' }),
    'IpamDriver.RequestAddress': () => ({ Error: 'pool exhausted' }),
    'IpamDriver.RequestPool': () => ({ PoolID: 7 }),
  });
  const plugin = await Plugin.activate({ name: 'p', address: { kind: 'unix', socketPath }, source: socketPath });
  t.teardown(() => plugin.close());
  await t.throwsAsync(plugin.call('NetworkDriver.GetCapabilities', undefined, (b) => b), { instanceOf: PluginError, message: /^plugin "p" answered NetworkDriver\.GetCapabilities with malformed JSON: "\{\\"Scope\\": \\"loc"$/ });
  await t.throwsAsync(plugin.call('NetworkDriver.Leave', {}, () => undefined), { message: 'plugin "p" NetworkDriver.Leave failed: no such endpoint' });
  await t.throwsAsync(plugin.call('IpamDriver.RequestAddress', {}, () => undefined, 'Error'), { message: 'plugin "p" IpamDriver.RequestAddress failed: pool exhausted' });
  const { decodePool } = await import('../../../src/drivers/remote/codec');
  await t.throwsAsync(plugin.call('IpamDriver.RequestPool', {}, decodePool, 'Error'), { message: 'plugin "p" answered IpamDriver.RequestPool wrongly: "PoolID" is not a string' });
});

test('a plugin that does not answer fails the call after the call timeout, without retrying', async (t) => {
  const { socketPath, client } = setup(t);
  const plugin = await startTestPlugin(t, socketPath, [], { 'NetworkDriver.Join': () => HANG });
  const started = Date.now();
  await t.throwsAsync(client({ callTimeoutMs: 300 }).call('NetworkDriver.Join', {}), { instanceOf: PluginError, message: 'plugin "p" did not answer NetworkDriver.Join within 0.3 s' });
  t.true(Date.now() - started < 5_000);
  t.is(plugin.methods().length, 1);
});

test('a plugin that trickles its answer fails the call at the call timeout too (a limit on the whole answer, not on silence)', async (t) => {
  const { socketPath, client } = setup(t);
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write('{');
    const timer = setInterval(() => response.write(' '), 50);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
  const started = Date.now();
  const call = client({ callTimeoutMs: 300 }).call('NetworkDriver.Join', {});
  const outcome = await Promise.race([call.then(() => 'answered', (error: Error) => error.message), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3_000))]);
  t.is(outcome, 'plugin "p" did not answer NetworkDriver.Join within 0.3 s');
  t.true(Date.now() - started < 3_000);
});

test('a plugin not up yet is tried again with backoff until it answers', async (t) => {
  const { socketPath, client } = setup(t);
  const started = Date.now();
  const call = client({ retryWindowMs: 10_000 }).call('Plugin.Activate');
  // Up after the first attempt failed: the retry one second later reaches it.
  setTimeout(() => void startTestPlugin(t, socketPath, ['IpamDriver'], {}), 300);
  t.deepEqual(await call, { Implements: ['IpamDriver'] });
  t.true(Date.now() - started >= 900, 'the retry waited for the backoff');
});

test('a plugin that stays away fails once the retry window would be over, saying where it was looked for', async (t) => {
  const { socketPath, client } = setup(t);
  const started = Date.now();
  await t.throwsAsync(client({ retryWindowMs: 2_500 }).call('NetworkDriver.Leave', {}), {
    instanceOf: PluginError,
    message: new RegExp(`^plugin "p" cannot be reached at unix://${socketPath.replace(/[.]/g, '\\.')} \\(NetworkDriver\\.Leave\\): .*ENOENT.*; is the plugin running\\?$`),
  });
  // 1 s of backoff, then 2 s more would pass the 2.5 s window.
  const elapsed = Date.now() - started;
  t.true(elapsed >= 900 && elapsed < 2_500, `gave up after ${elapsed} ms`);
});

test('Docker\'s backoff: 1 s doubled per retry, at most 30 s', (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map(backoffMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});
