// Plugin discovery by Docker's rules, over temporary directories: sockets first (NAME.sock, then
// NAME/NAME.sock), then .spec and .json files in each spec directory in order.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { findPlugin, PluginSpecError, type DiscoveryRoots } from '../../../src/drivers/remote/discovery';
import { pluginDir } from '../../helpers/plugin-server';

function roots(t: { teardown(fn: () => void): void }): DiscoveryRoots {
  const base = pluginDir(t);
  const dirs = { socketsDir: path.join(base, 'run'), specDirs: [path.join(base, 'etc'), path.join(base, 'lib')] };
  for (const dir of [dirs.socketsDir, ...dirs.specDirs]) fs.mkdirSync(dir, { recursive: true });
  return dirs;
}

async function listen(t: { teardown(fn: () => Promise<void>): void }, socketPath: string): Promise<void> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(() => new Promise((resolve) => server.close(() => resolve())));
}

const write = (file: string, text: string): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

test('a socket in the sockets directory, as NAME.sock or NAME/NAME.sock, is found before any spec file', async (t) => {
  const dirs = roots(t);
  write(path.join(dirs.specDirs[0]!, 'p1.spec'), 'tcp://127.0.0.1:9\n');
  await listen(t, path.join(dirs.socketsDir, 'p1.sock'));
  t.deepEqual(findPlugin('p1', dirs)?.address, { kind: 'unix', socketPath: path.join(dirs.socketsDir, 'p1.sock') });
  await listen(t, path.join(dirs.socketsDir, 'p2', 'p2.sock'));
  t.deepEqual(findPlugin('p2', dirs)?.address, { kind: 'unix', socketPath: path.join(dirs.socketsDir, 'p2', 'p2.sock') });
});

test('a file named NAME.sock that is no socket is passed over', (t) => {
  const dirs = roots(t);
  write(path.join(dirs.socketsDir, 'p.sock'), '');
  t.is(findPlugin('p', dirs), undefined);
  write(path.join(dirs.specDirs[1]!, 'p.spec'), 'unix:///somewhere/p.sock');
  t.deepEqual(findPlugin('p', dirs)?.address, { kind: 'unix', socketPath: '/somewhere/p.sock' });
});

test('spec directories are searched in order, .spec before .json, each also in a NAME/ subdirectory', (t) => {
  const dirs = roots(t);
  write(path.join(dirs.specDirs[1]!, 'p.spec'), 'tcp://10.0.0.2:80');
  write(path.join(dirs.specDirs[0]!, 'p', 'p.json'), JSON.stringify({ Name: 'p', Addr: 'tcp://10.0.0.3:81' }));
  t.deepEqual(findPlugin('p', dirs)?.address, { kind: 'tcp', host: '10.0.0.3', port: 81 });
  write(path.join(dirs.specDirs[0]!, 'p', 'p.spec'), 'tcp://10.0.0.4:82');
  t.deepEqual(findPlugin('p', dirs)?.address, { kind: 'tcp', host: '10.0.0.4', port: 82 });
  const found = findPlugin('p', dirs)!;
  t.is(found.source, path.join(dirs.specDirs[0]!, 'p', 'p.spec'));
});

test('a .json spec with TLSConfig and no CAFile skips verification, as Docker does; https needs no TLSConfig', (t) => {
  const dirs = roots(t);
  write(path.join(dirs.specDirs[0]!, 'a.json'), JSON.stringify({ Name: 'a', Addr: 'https://plugins.example:8443', TLSConfig: { CertFile: '/c.pem', KeyFile: '/k.pem' } }));
  t.deepEqual(findPlugin('a', dirs)?.address, { kind: 'tcp', host: 'plugins.example', port: 8443, tls: { insecureSkipVerify: true, certFile: '/c.pem', keyFile: '/k.pem' } });
  write(path.join(dirs.specDirs[0]!, 'b.json'), JSON.stringify({ Addr: 'https://10.1.1.1:9000', TLSConfig: { CAFile: '/ca.pem' } }));
  t.deepEqual(findPlugin('b', dirs)?.address, { kind: 'tcp', host: '10.1.1.1', port: 9000, tls: { insecureSkipVerify: false, caFile: '/ca.pem' } });
  write(path.join(dirs.specDirs[0]!, 'c.json'), JSON.stringify({ Addr: 'https://10.1.1.2:9001' }));
  t.deepEqual(findPlugin('c', dirs)?.address, { kind: 'tcp', host: '10.1.1.2', port: 9001, tls: { insecureSkipVerify: false } });
});

test('spec files that name no usable address are refused with the file and the fix', (t) => {
  const dirs = roots(t);
  write(path.join(dirs.specDirs[0]!, 'noscheme.spec'), '/run/x.sock');
  t.throws(() => findPlugin('noscheme', dirs), { instanceOf: PluginSpecError, message: /noscheme\.spec: "\/run\/x\.sock" is not a URL; write unix:\/\/\/path\/to\.sock or tcp:\/\/host:port/ });
  write(path.join(dirs.specDirs[0]!, 'ftp.spec'), 'ftp://host:21');
  t.throws(() => findPlugin('ftp', dirs), { instanceOf: PluginSpecError, message: /unsupported scheme "ftp"/ });
  write(path.join(dirs.specDirs[0]!, 'bad.json'), '{"Addr": ');
  t.throws(() => findPlugin('bad', dirs), { instanceOf: PluginSpecError, message: /bad\.json is not valid JSON/ });
  write(path.join(dirs.specDirs[0]!, 'noaddr.json'), '{"Name": "noaddr"}');
  t.throws(() => findPlugin('noaddr', dirs), { instanceOf: PluginSpecError, message: /has no "Addr" string/ });
});

test('an unknown name, and names that would leave the plugin directories, find nothing', (t) => {
  const dirs = roots(t);
  write(path.join(dirs.specDirs[0]!, 'x.spec'), 'tcp://10.0.0.1:1');
  t.is(findPlugin('missing', dirs), undefined);
  t.is(findPlugin('../etc/x', dirs), undefined);
  t.is(findPlugin('', dirs), undefined);
});
