// Docker's CLI against netctl's daemon for what takes over the connection: attached `run`,
// `start -a`, `exec`; and the raw exchange (101 upgrade, the older plain 200, a client leaving
// mid-stream), checked against what dockerd answers.
import test from 'ava';
import fs from 'node:fs';
import net from 'node:net';
import { runner, type Runner } from '../helpers/cli';
import { daemonWithCli } from '../helpers/containers';
import { request, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';

interface Setup {
  daemon: TestDaemon;
  docker: Runner;
  netctl: Runner;
}

async function setup(t: Parameters<typeof daemonWithCli>[0]): Promise<Setup> {
  const host = createTestNamespace(t, 'nctl-hj');
  const { daemon, netctl } = await daemonWithCli(t, { netns: host.path });
  return { daemon, netctl, docker: runner(['docker', '-H', `unix://${daemon.socketPath}`], {}, 30_000) };
}

/** Every address the daemon's networks hold for a container (the IPAM's view, through inspect). */
async function heldAddresses(daemon: TestDaemon): Promise<number> {
  const networks = (await request(daemon.socketPath, 'GET', '/networks')).json<Array<{ Id: string }>>();
  let held = 0;
  for (const { Id } of networks) held += Object.keys((await request(daemon.socketPath, 'GET', `/networks/${Id}`)).json<{ Containers: Record<string, unknown> }>().Containers ?? {}).length;
  return held;
}

interface Exchange {
  head: string;
  /** The stream after the head: Docker's frames. */
  body: Buffer;
}

/** A request by hand on the socket; the reply read until the daemon closes (within `timeoutMs`). */
function exchange(socketPath: string, method: string, target: string, headers: string[], body = '', options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    const timeoutMs = options.timeoutMs ?? 20_000;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`the daemon did not close the stream within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split === -1) return reject(new Error(`no reply head: ${JSON.stringify(all.toString('utf8'))}`));
      resolve({ head: all.subarray(0, split).toString('utf8'), body: all.subarray(split + 4) });
    });
    socket.on('connect', () => {
      const lines = [`${method} ${target} HTTP/1.1`, 'Host: netctl', ...headers, ...(body ? ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`] : [])];
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
      // Docker's CLI closes its side at once when it sends no stdin.
      if (options.halfClose) socket.end();
    });
  });
}

/** Docker's multiplexed frames, split: [stream, text] each. */
function frames(body: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let at = 0; at + 8 <= body.length; ) {
    const length = body.readUInt32BE(at + 4);
    out.push([body[at]!, body.subarray(at + 8, at + 8 + length).toString('utf8')]);
    at += 8 + length;
  }
  return out;
}

async function created(daemon: TestDaemon, cmd: string[]): Promise<string> {
  const reply = await request(daemon.socketPath, 'POST', '/containers/create', { Image: 'busybox', Cmd: cmd, HostConfig: { NetworkMode: 'none' } });
  if (reply.status !== 201) throw new Error(`create: ${reply.status} ${reply.text}`);
  return reply.json<{ Id: string }>().Id;
}

test('docker run attached prints the output and exits 0', async (t) => {
  const { docker } = await setup(t);
  const run = await docker(['run', '--network', 'none', 'busybox', 'echo', 'hi']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'hi\n');
});

test('docker run attached: stdout and stderr apart, and the exit code', async (t) => {
  const { docker } = await setup(t);
  const run = await docker(['run', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  t.is(run.code, 7, run.stderr);
  t.is(run.stdout, 'out\n');
  t.is(run.stderr, 'err\n');
});

test("docker run of a command that cannot run exits as with dockerd: 127 not found, 126 not executable (runc's lowercase words)", async (t) => {
  const { docker, netctl } = await setup(t);
  const missing = await docker(['run', '--network', 'none', 'busybox', 'no-such-command']);
  t.is(missing.code, 127, missing.stderr);
  t.regex(missing.stderr, /exec no-such-command: executable file not found in \$PATH/);
  // A directory, and a file without the execute bit: execve's EACCES, in runc's words.
  for (const command of [['/etc'], ['/etc/passwd']]) {
    const denied = await docker(['run', '--network', 'none', 'busybox', ...command]);
    t.is(denied.code, 126, denied.stderr);
    t.regex(denied.stderr, new RegExp(`exec ${command[0]}: permission denied`));
  }
  const ours = await netctl(['run', '--network', 'none', '--', '/etc']);
  t.is(ours.code, 126, ours.stderr);
});

test('docker run --rm leaves no container and no address, also when the start fails', async (t) => {
  const { daemon, docker } = await setup(t);
  const run = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 addr show eth0 | grep -c inet; exit 3']);
  t.is(run.code, 3, run.stderr);
  // It had an address while it ran.
  t.is(run.stdout, '1\n');
  const failed = await docker(['run', '--rm', 'busybox', 'no-such-command']);
  t.not(failed.code, 0);
  t.regex(failed.stderr, /no-such-command/);
  t.deepEqual((await docker(['ps', '-aq'])).stdout, '');
  t.is(await heldAddresses(daemon), 0);
});

test('docker start -a streams the run and exits with its code', async (t) => {
  const { docker } = await setup(t);
  const id = (await docker(['create', '--network', 'none', 'busybox', 'sh', '-c', 'echo again; exit 5'])).stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  for (let i = 0; i < 2; i++) {
    const run = await docker(['start', '-a', id]);
    t.is(run.code, 5, run.stderr);
    t.is(run.stdout, 'again\n');
  }
});

test('docker exec prints the output and returns the exit code', async (t) => {
  const { docker } = await setup(t);
  t.is((await docker(['run', '-d', '--name', 'web', 'busybox', 'sleep', '300'])).code, 0);
  const addr = await docker(['exec', 'web', 'ip', 'addr']);
  t.is(addr.code, 0, addr.stderr);
  t.regex(addr.stdout, /inet 127\.0\.0\.1\/8/);
  t.regex(addr.stdout, /eth0/);
  const three = await docker(['exec', 'web', 'sh', '-c', 'echo o; echo e >&2; exit 3']);
  t.is(three.code, 3);
  t.is(three.stdout, 'o\n');
  t.is(three.stderr, 'e\n');
  // Detached: the command runs, nothing is streamed.
  t.is((await docker(['exec', '-d', 'web', 'touch', '/tmp/detached'])).code, 0);
  let seen = false;
  for (let i = 0; i < 50 && !seen; i++) seen = (await docker(['exec', 'web', 'test', '-e', '/tmp/detached'])).code === 0;
  t.true(seen);
});

test('docker exec -e and -w: added to the container\'s environment, in that directory, as dockerd; -u and --privileged refused', async (t) => {
  const { docker } = await setup(t);
  t.is((await docker(['run', '-d', '--name', 'web', '-e', 'KEPT=1', '-e', 'OVER=old', '-w', '/tmp', 'busybox', 'sleep', '300'])).code, 0);
  const run = await docker(['exec', '-e', 'OVER=new', '-e', 'ADDED=2', '-w', '/etc/../root', 'web', 'sh', '-c', 'echo $KEPT $OVER $ADDED; pwd']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '1 new 2\n/root\n');
  // Without them, the container's own.
  t.is((await docker(['exec', 'web', 'sh', '-c', 'echo $OVER; pwd'])).stdout, 'old\n/tmp\n');
  // A directory that is not there: the exec cannot start (126, as dockerd's).
  t.is((await docker(['exec', '-w', '/nope', 'web', 'pwd'])).code, 126);
  const relative = await docker(['exec', '-w', 'rel', 'web', 'pwd']);
  t.not(relative.code, 0);
  t.regex(relative.stderr, /working directory "rel" is invalid, it needs to be an absolute path/);
  for (const [flag, field] of [[['-u', '1000'], 'User'], [['--privileged'], 'Privileged']] as const) {
    const refused = await docker(['exec', ...flag, 'web', 'id']);
    t.is(refused.code, 1, refused.stderr);
    t.regex(refused.stderr, new RegExp(`${field} \\(docker exec ${flag[0]}\\) is not supported by netctl`));
  }
});

test('attach and exec start take the connection over: 101 with Upgrade, plain 200 without', async (t) => {
  const { daemon } = await setup(t);
  const id = await created(daemon, ['sh', '-c', 'echo one; echo two >&2; exit 4']);
  // Attached before the start, as `docker run` does; the stream ends when the run does.
  const attached = exchange(daemon.socketPath, 'POST', `/v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1`, ['Connection: Upgrade', 'Upgrade: tcp'], '', { halfClose: true });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is((await request(daemon.socketPath, 'POST', `/containers/${id}/start`)).status, 204);
  const upgraded = await attached;
  t.is(upgraded.head.split('\r\n')[0], 'HTTP/1.1 101 UPGRADED');
  t.true(upgraded.head.includes('\r\nContent-Type: application/vnd.docker.raw-stream'));
  t.true(upgraded.head.includes('\r\nConnection: Upgrade\r\nUpgrade: tcp'));
  t.deepEqual(frames(upgraded.body), [[1, 'one\n'], [2, 'two\n']]);
  t.is((await request(daemon.socketPath, 'POST', `/containers/${id}/wait`)).json<{ StatusCode: number }>().StatusCode, 4);

  // The older hijack: no Upgrade header, a 200 and the raw stream; logs=1 replays, stderr only.
  const plain = await exchange(daemon.socketPath, 'POST', `/containers/${id}/attach?logs=1&stderr=1`, []);
  t.is(plain.head.split('\r\n')[0], 'HTTP/1.1 200 OK');
  t.false(/Transfer-Encoding|Content-Length|Upgrade/i.test(plain.head));
  t.deepEqual(frames(plain.body), [[2, 'two\n']]);

  const web = await created(daemon, ['sleep', '300']);
  t.is((await request(daemon.socketPath, 'POST', `/containers/${web}/start`)).status, 204);
  for (const headers of [['Connection: Upgrade', 'Upgrade: tcp'], []]) {
    const exec = (await request(daemon.socketPath, 'POST', `/containers/${web}/exec`, { Cmd: ['sh', '-c', 'echo x; exit 2'], AttachStdout: true, AttachStderr: true })).json<{ Id: string }>().Id;
    const started = await exchange(daemon.socketPath, 'POST', `/exec/${exec}/start`, headers, JSON.stringify({ Detach: false, Tty: false }), { halfClose: true });
    t.is(started.head.split('\r\n')[0], headers.length > 0 ? 'HTTP/1.1 101 UPGRADED' : 'HTTP/1.1 200 OK');
    t.deepEqual(frames(started.body), [[1, 'x\n']]);
    t.like((await request(daemon.socketPath, 'GET', `/exec/${exec}/json`)).json(), { Running: false, ExitCode: 2 });
  }
  // Errors before the takeover are plain JSON replies.
  const missing = await request(daemon.socketPath, 'POST', '/containers/nope/attach?stream=1&stdout=1');
  t.is(missing.status, 404);
  t.regex(missing.text, /No such container: nope/);
});

test('a client that leaves mid-stream: the daemon lives on and holds no stream open', async (t) => {
  const { daemon } = await setup(t);
  const id = await created(daemon, ['sh', '-c', 'while true; do echo tick; sleep 0.05; done']);
  t.is((await request(daemon.socketPath, 'POST', `/containers/${id}/start`)).status, 204);
  const web = id;
  const sockets = (): number => fs.readdirSync(`/proc/${daemon.process.pid}/fd`).filter((fd) => fs.readlinkSync(`/proc/${daemon.process.pid}/fd/${fd}`, 'utf8').startsWith('socket:')).length;
  const before = sockets();
  const leave = (target: string, body = ''): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.createConnection(daemon.socketPath);
      socket.on('error', reject);
      socket.on('connect', () => socket.write(`POST ${target} HTTP/1.1\r\nHost: netctl\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : ''}\r\n${body}`));
      // Gone once the stream has begun.
      socket.on('data', (chunk: Buffer) => {
        if (chunk.includes('tick')) {
          socket.destroy();
          resolve();
        }
      });
    });
  for (let i = 0; i < 5; i++) {
    await leave(`/containers/${id}/attach?stream=1&stdout=1`);
    const exec = (await request(daemon.socketPath, 'POST', `/containers/${web}/exec`, { Cmd: ['sh', '-c', 'echo tick; sleep 0.3; echo tock'] })).json<{ Id: string }>().Id;
    await leave(`/exec/${exec}/start`, '{}');
    // The exec runs to its end all the same and records its code.
    let done = false;
    for (let j = 0; j < 100 && !done; j++) {
      done = (await request(daemon.socketPath, 'GET', `/exec/${exec}/json`)).json<{ Running: boolean }>().Running === false;
      if (!done) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.true(done);
  }
  t.is((await request(daemon.socketPath, 'GET', '/_ping')).status, 200);
  t.is(daemon.process.exitCode, null);
  // The connections that left are closed on the daemon's side too (a stream that went on would hold them).
  let after = sockets();
  for (let i = 0; i < 50 && after > before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = sockets();
  }
  t.true(after <= before, `the daemon held ${before} sockets before and ${after} after`);
});
