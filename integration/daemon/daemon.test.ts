// The daemon process: its socket, Docker's version negotiation, errors, one daemon per root,
// clean shutdown. Each test runs its own daemon inside its own test host.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { API_LIMITS } from '../../src/daemon/api-server';
import { request, startDaemon } from '../helpers/daemon';
import { rawHttp } from '../helpers/raw-http';

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

test('the socket is made 0660 where no one else can reach it, then renamed into place: never reachable at a looser mode', async (t) => {
  const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-strace-')), 'trace');
  t.teardown(() => fs.rmSync(path.dirname(trace), { recursive: true, force: true }));
  const syscalls = '/^(bind|chmod|fchmodat|rename|renameat2?|mkdir|mkdirat)$';
  const daemon = await startDaemon(t, { netns: testHost(t), prefix: ['strace', '-f', '--seccomp-bpf', '-qq', '-o', trace, '-e', `trace=${syscalls}`] });
  // strace leaves its tracee running when it is stopped itself: the daemon is stopped first.
  const pid = Number(fs.readFileSync(path.join(daemon.runDir, 'netctl.pid'), 'utf8'));
  process.kill(pid, 'SIGTERM');
  t.is(await daemon.stop(), 0);
  const calls = fs.readFileSync(trace, 'utf8').split('\n');
  const bind = calls.findIndex((line) => line.includes('bind(') && line.includes('AF_UNIX') && line.includes(daemon.runDir));
  t.not(bind, -1, 'the socket was bound');
  const bound = /sun_path="([^"]+)"/.exec(calls[bind]!)![1]!;
  t.not(bound, daemon.socketPath, 'not bound at its final path');
  t.regex(calls.slice(0, bind).join('\n'), new RegExp(`mkdir(at)?\\((AT_FDCWD, )?"${path.dirname(bound)}", 0700\\) = 0`), 'in a directory only root can enter');
  const chmod = calls.findIndex((line, i) => i > bind && /chmod(at)?\(/.test(line) && line.includes(`"${bound}", 0660) = 0`));
  t.not(chmod, -1, 'made 0660 there');
  const rename = calls.findIndex((line) => /rename(at2?)?\(/.test(line) && line.includes(`"${bound}"`) && line.includes(`"${daemon.socketPath}"`) && line.endsWith('= 0'));
  t.true(rename > chmod, 'renamed into place after the chmod');
});

test('the socket is root-only (0660) and the state lives under --root', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t) });
  const stat = fs.statSync(daemon.socketPath);
  t.true(stat.isSocket());
  t.is(stat.mode & 0o777, 0o660);
  t.true(fs.existsSync(path.join(daemon.root, 'store.db')));
});

/** Connections that send a request's head up to `head` and stop there: resolves with each one's reply status line and when it closed. */
function stalled(socketPath: string, count: number, head: string, limitMs: number): Promise<Array<{ status: string; closedAfterMs: number }>> {
  const start = Date.now();
  return Promise.all(
    Array.from({ length: count }, () => new Promise<{ status: string; closedAfterMs: number }>((resolve) => {
      const socket = net.createConnection(socketPath);
      let reply = '';
      socket.setTimeout(limitMs, () => socket.destroy());
      socket.on('data', (c: Buffer) => (reply += c.toString('utf8')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ status: reply.split('\r\n')[0]!, closedAfterMs: Date.now() - start }));
      socket.on('connect', () => socket.write(head));
    })),
  );
}

test('connections stalled in their headers get 408 and are closed within the headers timeout; requests long on purpose (wait, logs --follow, exec) are not cut', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  const api = (method: string, urlPath: string, body?: unknown, timeoutMs = 60_000): ReturnType<typeof rawHttp> => rawHttp(daemon.socketPath, method, urlPath, { ...(body !== undefined ? { body: JSON.stringify(body) } : {}), timeoutMs });
  // Outlives the headers timeout and the checks' interval.
  const longMs = API_LIMITS.headersTimeoutMs + 2 * API_LIMITS.checkIntervalMs;
  // The container outlives the exec by seconds: on a loaded machine the exec may start late, and it dies with the container.
  t.is((await api('POST', '/containers/create?name=slow', { Cmd: ['sh', '-c', `echo first; sleep ${longMs / 1000 + 4}; echo last`], HostConfig: { NetworkMode: 'none' } })).status, 201);
  t.teardown(() => rawHttp(daemon.socketPath, 'DELETE', '/containers/slow?force=1').then(() => undefined));
  t.is((await api('POST', '/containers/slow/start')).status, 204);
  const exec = JSON.parse((await api('POST', '/containers/slow/exec', { Cmd: ['sh', '-c', `sleep ${longMs / 1000 - 1}; echo done`] })).body) as { Id: string };

  const slack = 10_000;
  const stalls = stalled(daemon.socketPath, 50, 'GET /_ping HTTP/1.1\r\nHost: netctl\r\n', API_LIMITS.headersTimeoutMs + slack);
  const wait = api('POST', '/containers/slow/wait');
  const logs = api('GET', '/containers/slow/logs?stdout=1&follow=1');
  const execOutput = api('POST', `/exec/${exec.Id}/start`, {});
  t.is((await request(daemon.socketPath, 'GET', '/_ping')).status, 200, 'others are served meanwhile');

  for (const { status, closedAfterMs } of await stalls) {
    t.is(status, 'HTTP/1.1 408 Request Timeout');
    t.true(closedAfterMs >= API_LIMITS.headersTimeoutMs - 1_000 && closedAfterMs < API_LIMITS.headersTimeoutMs + slack, `closed after ${closedAfterMs} ms`);
  }
  t.is((await wait).status, 200);
  // Sent chunked, its head at once (as Docker's): the JSON is in the one chunk.
  t.is((JSON.parse(/\{.*\}/.exec((await wait).body)![0]) as { StatusCode: number }).StatusCode, 0);
  t.regex((await logs).body, /first[\s\S]*last/);
  t.regex((await execOutput).body, /done/);
});

test('a client that does not read a long log holds the rest in the file, not in the daemon’s memory', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  const logBytes = 64 * 1024 * 1024;
  t.is((await rawHttp(daemon.socketPath, 'POST', '/containers/create?name=chatty', { body: JSON.stringify({ Cmd: ['head', '-c', String(logBytes), '/dev/zero'], HostConfig: { NetworkMode: 'none' } }) })).status, 201);
  t.teardown(() => rawHttp(daemon.socketPath, 'DELETE', '/containers/chatty?force=1').then(() => undefined));
  t.is((await rawHttp(daemon.socketPath, 'POST', '/containers/chatty/start')).status, 204);
  t.is((await rawHttp(daemon.socketPath, 'POST', '/containers/chatty/wait', { timeoutMs: 60_000 })).status, 200);
  const rssKiB = (): number => Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${daemon.process.pid}/status`, 'utf8'))![1]);
  const before = rssKiB();
  const reader = net.createConnection(daemon.socketPath);
  t.teardown(() => reader.destroy());
  reader.pause();
  reader.write('GET /containers/chatty/logs?stdout=1 HTTP/1.1\r\nHost: netctl\r\n\r\n');
  // Long enough for the daemon to have read the whole log, were it to.
  await new Promise((r) => setTimeout(r, 3_000));
  const grewMiB = (rssKiB() - before) / 1024;
  t.true(grewMiB < logBytes / 1024 / 1024 / 4, `the daemon grew by ${grewMiB.toFixed(1)} MiB`);
  // It still serves the log whole to one that reads.
  let received = 0;
  reader.on('data', (chunk: Buffer) => (received += chunk.length));
  reader.resume();
  const deadline = Date.now() + 30_000;
  while (received < logBytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.true(received > logBytes, `${received} bytes received`);
});

test('a client that leaves logs --follow of a quiet container releases its log file at once', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  t.is((await rawHttp(daemon.socketPath, 'POST', '/containers/create?name=quiet', { body: JSON.stringify({ Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'none' } }) })).status, 201);
  t.teardown(() => rawHttp(daemon.socketPath, 'DELETE', '/containers/quiet?force=1').then(() => undefined));
  t.is((await rawHttp(daemon.socketPath, 'POST', '/containers/quiet/start')).status, 204);
  const logsOpen = (): number => fs.readdirSync(`/proc/${daemon.process.pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${daemon.process.pid}/fd/${fd}`).endsWith('/log');
    } catch {
      return false;
    }
  }).length;
  const before = logsOpen();
  const follower = net.createConnection(daemon.socketPath);
  follower.write('GET /containers/quiet/logs?stdout=1&follow=1 HTTP/1.1\r\nHost: netctl\r\n\r\n');
  await new Promise((resolve) => follower.once('data', resolve));
  const deadline = Date.now() + 5_000;
  while (logsOpen() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.is(logsOpen(), before + 1, 'the follower holds the log open');
  follower.end();
  const released = Date.now() + 5_000;
  while (logsOpen() > before && Date.now() < released) await new Promise((r) => setTimeout(r, 20));
  t.is(logsOpen(), before, 'the log is closed once the client has gone, with nothing written since');
});

test('at most API_LIMITS.maxConnections connections are open at once: those past it are closed at once and logged, and the daemon serves again when the others go', async (t) => {
  // Each held connection is a descriptor here too.
  const soft = Number(/^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1]);
  if (soft < API_LIMITS.maxConnections + 200) execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${API_LIMITS.maxConnections + 200}`]);
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  const extra = 40;
  const sockets: net.Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  let closed = 0;
  let failed = 0;
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.createConnection(daemon.socketPath);
      sockets.push(socket);
      socket.once('close', () => closed++);
      socket.once('connect', () => resolve());
      socket.once('error', () => {
        failed++;
        resolve();
      });
    });
  // In batches: the listen backlog must not overflow (a unix socket's connect then fails with EAGAIN).
  const total = API_LIMITS.maxConnections + extra;
  for (let i = 0; i < total; i += 64) await Promise.all(Array.from({ length: Math.min(64, total - i) }, open));
  await new Promise((r) => setTimeout(r, 1_000));
  t.is(failed, 0);
  const closedEarly = closed;
  // The start-up check's keep-alive connection may still count.
  t.true(closedEarly >= extra && closedEarly <= extra + 2, `${closedEarly} closed at once`);
  for (const socket of sockets) socket.destroy();
  const deadline = Date.now() + 10_000;
  let ping = 0;
  while (ping !== 200 && Date.now() < deadline) ping = await request(daemon.socketPath, 'GET', '/_ping').then((r) => r.status, () => 0);
  t.is(ping, 200);
  t.regex(daemon.logs(), new RegExp(`"dropped":\\d+,"limit":${API_LIMITS.maxConnections},"msg":"API connections over the limit closed at once"`));
});

test('a request Node cannot parse gets a 400 JSON message even while the client is still sending its body; so does a 404 whose body was never read', async (t) => {
  const daemon = await startDaemon(t, { netns: testHost(t), args: ['--bridge', 'none'] });
  const body = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
  const malformed = await rawHttp(daemon.socketPath, 'POST', '/networks/create with spaces', { body });
  t.is(malformed.status, 400);
  t.regex((JSON.parse(malformed.body) as { message: string }).message, /^malformed HTTP request: /);
  const unread = await rawHttp(daemon.socketPath, 'POST', '/no/such/route', { body: JSON.stringify({ pad: 'x'.repeat(900 * 1024) }) });
  t.is(unread.status, 404);
  t.regex((JSON.parse(unread.body) as { message: string }).message, /^page not found: \/no\/such\/route$/);
  t.is((await request(daemon.socketPath, 'GET', '/_ping')).status, 200);
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
