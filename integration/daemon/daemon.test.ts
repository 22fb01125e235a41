// The daemon process: its socket, Docker's version negotiation, errors, one daemon per root,
// clean shutdown. Each test runs its own daemon inside its own test host.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { request, startDaemon } from '../helpers/daemon';

function testHost(t: { teardown(fn: () => void): void }): string {
  const name = `nctl-d-${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.teardown(() => execFileSync('ip', ['netns', 'del', name]));
  return `/run/netns/${name}`;
}

test('/_ping answers OK with the API version Docker clients negotiate with, with and without a version prefix', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  for (const urlPath of ['/_ping', '/v1.41/_ping', '/v1.24/_ping']) {
    const reply = await request(daemon.socketPath, 'GET', urlPath);
    t.is(reply.status, 200, urlPath);
    t.is(reply.text, 'OK');
    t.is(reply.headers['api-version'], '1.41');
    t.is(reply.headers['ostype'], 'linux');
  }
  const head = await request(daemon.socketPath, 'HEAD', '/_ping');
  t.is(head.status, 200);
  t.is(head.text, '');
});

test('/version describes the daemon and the kernel', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  const reply = await request(daemon.socketPath, 'GET', '/v1.41/version');
  t.is(reply.status, 200);
  const body = reply.json<{ ApiVersion: string; MinAPIVersion: string; Os: string; KernelVersion: string; Version: string }>();
  t.is(body.ApiVersion, '1.41');
  t.is(body.Os, 'linux');
  t.is(body.KernelVersion, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  t.regex(body.Version, /^\d+\.\d+\.\d+/);
});

test('a body over 1 MiB gets 413 (answered, not cut off), invalid JSON 400, and nothing is created', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  const huge = await request(daemon.socketPath, 'POST', '/v1.41/networks/create', JSON.stringify({ Name: 'big', Labels: { pad: 'x'.repeat(2 * 1024 * 1024) } }));
  t.is(huge.status, 413);
  t.regex(huge.json<{ message: string }>().message, /request body is larger than 1048576 bytes/);
  const broken = await request(daemon.socketPath, 'POST', '/v1.41/networks/create', '{"Name": ');
  t.is(broken.status, 400);
  t.regex(broken.json<{ message: string }>().message, /invalid JSON in request body/);
  const names = (await request(daemon.socketPath, 'GET', '/v1.41/networks')).json<Array<{ Name: string }>>().map((n) => n.Name);
  t.deepEqual(names.sort(), ['host', 'none']);
});

/** Writes raw HTTP/1.1 to the daemon's socket, piece by piece with a pause between, and returns the reply's status line. */
function rawRequest(socketPath: string, pieces: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let reply = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no reply within 10 s')));
    socket.on('data', (c: Buffer) => {
      reply += c.toString('utf8');
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
  });
}

test('a body is read whole however it comes: with the head, after it, in chunks', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  const create = (name: string): { head: string; body: string } => {
    const body = JSON.stringify({ Name: name, Driver: 'bridge' });
    return { head: `POST /v1.41/networks/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body };
  };
  const together = create('together');
  t.regex(await rawRequest(daemon.socketPath, [together.head + together.body]), / 201 /);
  const later = create('later');
  t.regex(await rawRequest(daemon.socketPath, [later.head, later.body.slice(0, 5), later.body.slice(5)]), / 201 /);
  const chunkedBody = JSON.stringify({ Name: 'chunked', Driver: 'bridge' });
  const chunk = (text: string): string => `${text.length.toString(16)}\r\n${text}\r\n`;
  const chunkedHead = 'POST /v1.41/networks/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  t.regex(await rawRequest(daemon.socketPath, [chunkedHead + chunk(chunkedBody.slice(0, 7)) + chunk(chunkedBody.slice(7)) + '0\r\n\r\n']), / 201 /);
  t.regex(await rawRequest(daemon.socketPath, [chunkedHead + chunk(chunkedBody.slice(0, 7)), chunk(chunkedBody.slice(7).replace('chunked', 'chunked2')) + '0\r\n\r\n']), / 201 /);
  const names = (await request(daemon.socketPath, 'GET', '/v1.41/networks')).json<Array<{ Name: string }>>().map((n) => n.Name);
  t.deepEqual(names.sort(), ['chunked', 'chunked2', 'host', 'later', 'none', 'together']);
});

test('the daemon raises its soft limit of open files to the hard limit (descriptors per sandbox)', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), prefix: ['prlimit', '--nofile=1024:8192'] });
  const limits = fs.readFileSync(`/proc/${daemon.process.pid}/limits`, 'utf8');
  t.regex(limits, /^Max open files\s+8192\s+8192\s+files/m);
});

test('unknown paths get 404 and wrong methods 405, as JSON messages', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  const missing = await request(daemon.socketPath, 'GET', '/v1.41/no/such/thing');
  t.is(missing.status, 404);
  t.regex(missing.json<{ message: string }>().message, /page not found: \/no\/such\/thing/);
  const wrongMethod = await request(daemon.socketPath, 'POST', '/_ping', '{"x":1}');
  t.is(wrongMethod.status, 405);
  t.regex(wrongMethod.json<{ message: string }>().message, /POST is not allowed on \/_ping/);
  // The daemon is still serving after bad input.
  t.is((await request(daemon.socketPath, 'GET', '/_ping')).status, 200);
});

test('the socket is root-only (0660) and the state lives under --root', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  const stat = fs.statSync(daemon.socketPath);
  t.true(stat.isSocket());
  t.is(stat.mode & 0o777, 0o660);
  t.true(fs.existsSync(path.join(daemon.root, 'store.db')));
});

test('a second daemon on the same root is refused with a clear error and the first keeps serving', async (t) => {
  const netns = testHost(t);
  const first = await startDaemon(t, { netns });
  const second = spawnSync('nsenter', [`--net=${netns}`, process.execPath, path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js'), 'daemon', '--root', first.root, '--exec-root', first.runDir, '-H', `unix://${first.runDir}/other.sock`], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  t.is(second.status, 1);
  t.regex(second.stderr, new RegExp(`another netctl daemon \\(pid \\d+\\) is running with this root`));
  t.false(fs.existsSync(`${first.runDir}/other.sock`));
  t.is((await request(first.socketPath, 'GET', '/_ping')).status, 200);
});

test('SIGTERM stops the daemon cleanly: exit 0, socket and pid file gone', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  const pidFile = path.join(daemon.runDir, 'netctl.pid');
  // nsenter execs node in place (no fork for a network namespace), so the pid is the child's.
  t.is(fs.readFileSync(pidFile, 'utf8').trim(), String(daemon.process.pid));
  t.is(await daemon.stop(), 0);
  t.false(fs.existsSync(daemon.socketPath));
  t.false(fs.existsSync(pidFile));
  t.regex(daemon.logs(), /"msg":"shutting down"/);
});

test('the Docker CLI negotiates with the daemon', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  const docker = spawnSync('docker', ['-H', `unix://${daemon.socketPath}`, 'version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}'], { encoding: 'utf8', timeout: 15_000 });
  t.is(docker.status, 0, docker.stderr);
  t.is(docker.stdout.trim(), '1.41 linux');
});
