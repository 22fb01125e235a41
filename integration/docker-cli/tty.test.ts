// -t and -i through a pseudo-terminal (`script`), with Docker's CLI and netctl's against netctl's
// daemon: a shell on a pty of the container's own devpts, its exit code, resizes, stdin from a
// pipe ending the process's stdin, and a TTY container's log as one raw stream.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { NETCTL_CLI, runner, type Runner } from '../helpers/cli';
import { daemonWithCli } from '../helpers/containers';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';

interface Setup {
  daemon: TestDaemon;
  docker: Runner;
  netctl: Runner;
  /** The command lines, for `script`. */
  dockerLine: string;
  netctlLine: string;
}

async function setup(t: Parameters<typeof daemonWithCli>[0]): Promise<Setup & { netns: string }> {
  const host = createTestNamespace(t, 'nctl-tty');
  const { daemon, netctl } = await daemonWithCli(t, { netns: host.path });
  return {
    netns: host.path,
    daemon,
    netctl,
    docker: runner(['docker', '-H', `unix://${daemon.socketPath}`], {}, 30_000),
    dockerLine: `docker -H unix://${daemon.socketPath}`,
    netctlLine: `${process.execPath} ${NETCTL_CLI} -H unix://${daemon.socketPath}`,
  };
}

interface Step {
  /** Sent once the output so far matches. */
  after: RegExp;
  send: string;
  /** Called with the output so far before sending (to resize the terminal, say). */
  before?: (output: string) => Promise<void>;
}

/**
 * Runs `command` on a pty of its own (`script`, in a terminal of 40 rows and 120 columns),
 * sending each step's input once the output has shown what it waits for; resolves with the
 * output and the command's exit code. Bounded by `timeoutMs`.
 */
function onTerminal(command: string, steps: Step[], timeoutMs = 30_000): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    // The terminal's own name first ("outer=/dev/pts/N"): a test resizes it from outside.
    const child = spawn('script', ['-qec', `stty rows 40 cols 120; echo "outer=$(tty)"; ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let next = 0;
    let busy = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const advance = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (next < steps.length && steps[next]!.after.test(output)) {
          const step = steps[next++]!;
          await step.before?.(output);
          child.stdin.write(step.send);
        }
      } finally {
        busy = false;
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      advance().catch((error: unknown) => child.kill('SIGKILL') && reject(error as Error));
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

const PROMPT = /\/ # /;

/** The terminal `onTerminal` runs its command on. */
function outerTerminal(output: string): string {
  const name = /outer=(\/dev\/pts\/\d+)/.exec(output)?.[1];
  if (!name) throw new Error(`the terminal's name is not in the output: ${JSON.stringify(output)}`);
  return name;
}

/** The shell's session: hi, its tty and the terminal's size, then exit 3. */
const SESSION: Step[] = [{ after: PROMPT, send: 'echo h""i; tty; stty size; exit 3\r' }];

function checkSession(t: { is(a: unknown, b: unknown, m?: string): void; regex(s: string, r: RegExp, m?: string): void }, run: { output: string; code: number | null }, size = '40 120'): void {
  t.is(run.code, 3, run.output);
  t.regex(run.output, /\r\nhi\r\n/);
  t.regex(run.output, /\r\n\/dev\/pts\/\d+\r\n/);
  t.regex(run.output, new RegExp(`\\r\\n${size}\\r\\n`));
}

test('docker run -it busybox sh: a shell on a pty, the terminal\'s size, the exit code', async (t) => {
  const { dockerLine, docker } = await setup(t);
  const run = await onTerminal(`${dockerLine} run --rm -it --network none busybox sh`, SESSION);
  checkSession(t, run);
  t.is((await docker(['ps', '-aq'])).stdout, '');
});

test('docker exec -it c sh: a shell on a pty of the container, and its exit code', async (t) => {
  const { dockerLine, docker } = await setup(t);
  t.is((await docker(['run', '-d', '--name', 'c', '--network', 'none', 'busybox', 'sleep', '300'])).code, 0);
  checkSession(t, await onTerminal(`${dockerLine} exec -it c sh`, SESSION));
});

test('a resize of the terminal reaches the shell\'s pty (SIGWINCH, the CLI\'s resize): docker run, docker exec, netctl run', async (t) => {
  const { dockerLine, netctlLine, docker } = await setup(t);
  t.is((await docker(['run', '-d', '--name', 'c', '--network', 'none', 'busybox', 'sleep', '300'])).code, 0);
  // The CLI's own terminal is resized, as a user resizes a window; the shell waits (bounded) for the new size.
  const resized: Step[] = [
    { after: PROMPT, send: 'stty size\r' },
    {
      after: /\r\n40 120\r\n/,
      send: 'for i in $(seq 100); do [ "$(stty size)" = "33 77" ] && break; sleep 0.1; done; stty size; exit 3\r',
      before: async (output) => void execFileSync('stty', ['-F', outerTerminal(output), 'rows', '33', 'cols', '77']),
    },
  ];
  for (const command of [`${dockerLine} run --rm -it --network none busybox sh`, `${dockerLine} exec -it c sh`, `${netctlLine} run --rm -it --network none -- sh`]) {
    const run = await onTerminal(command, resized);
    t.is(run.code, 3, `${command}: ${run.output}`);
    t.regex(run.output, /\r\n33 77\r\n/, command);
  }
});

test('resize answers as Docker: 200 running (with or without a pty), 409 not running, 404 unknown, 400 bad size', async (t) => {
  const { daemon, docker } = await setup(t);
  const resize = async (path: string): Promise<[number, string]> => {
    const reply = await request(daemon.socketPath, 'POST', path);
    return [reply.status, reply.status === 200 ? '' : reply.json<{ message: string }>().message];
  };
  const id = (await docker(['create', '-t', '--network', 'none', 'busybox', 'sleep', '300'])).stdout.trim();
  t.deepEqual(await resize(`/containers/${id}/resize?h=10&w=20`), [409, `Container ${id} is not running`]);
  t.is((await docker(['start', id])).code, 0);
  t.deepEqual(await resize(`/containers/${id}/resize?h=10&w=20`), [200, '']);
  t.is((await resize(`/containers/${id}/resize?h=abc&w=20`))[0], 400);
  t.deepEqual(await resize('/containers/nosuch/resize?h=1&w=1'), [404, 'No such container: nosuch']);
  t.is((await docker(['run', '-d', '--name', 'plain', '--network', 'none', 'busybox', 'sleep', '300'])).code, 0);
  t.deepEqual(await resize('/containers/plain/resize?h=10&w=20'), [200, '']);
  t.deepEqual(await resize('/exec/nosuch/resize?h=1&w=1'), [404, 'No such exec instance: nosuch']);
  const exec = (await request(daemon.socketPath, 'POST', '/containers/plain/exec', { Cmd: ['true'], Tty: true })).json<{ Id: string }>().Id;
  const started = await request(daemon.socketPath, 'POST', `/exec/${exec}/start`, { Detach: true, Tty: true });
  t.is(started.status, 200);
  for (let i = 0; i < 100 && (await request(daemon.socketPath, 'GET', `/exec/${exec}/json`)).json<{ Running: boolean }>().Running; i++) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(await resize(`/exec/${exec}/resize?h=1&w=1`), [404, 'no such exec']);
});

test('docker run -i and exec -i with a pipe: the output, then the end of stdin ends the process', async (t) => {
  const { docker } = await setup(t);
  const run = await docker(['run', '--rm', '-i', '--network', 'none', 'busybox', 'sh', '-c', 'cat; exit 4'], 'x\ny\n');
  t.is(run.code, 4, run.stderr);
  t.is(run.stdout, 'x\ny\n');
  t.is((await docker(['run', '-d', '--name', 'c', '--network', 'none', 'busybox', 'sleep', '300'])).code, 0);
  const exec = await docker(['exec', '-i', 'c', 'sh', '-c', 'cat >&2; exit 6'], 'z\n');
  t.is(exec.code, 6);
  t.is(exec.stderr, 'z\n');
});

test('a TTY container\'s log is one raw stream, and inspect says Tty', async (t) => {
  const { daemon, docker } = await setup(t);
  t.is((await docker(['run', '-d', '-t', '--name', 'c', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2'])).code, 0);
  t.is((await docker(['wait', 'c'])).stdout, '0\n');
  const logs = await request(daemon.socketPath, 'GET', '/containers/c/logs?stdout=1&stderr=1');
  t.is(logs.text, 'out\r\nerr\r\n');
  t.is((await docker(['logs', 'c'])).stdout, 'out\r\nerr\r\n');
  t.is((await docker(['inspect', '-f', '{{.Config.Tty}} {{.Config.OpenStdin}}', 'c'])).stdout, 'true false\n');
  // An exec's stream: the start's Tty decides its form, as dockerd (framed even from a pty when false).
  t.is((await docker(['run', '-d', '--name', 'e', '--network', 'none', 'busybox', 'sleep', '300'])).code, 0);
  const execStream = async (createTty: boolean, startTty: boolean): Promise<string> => {
    const id = (await request(daemon.socketPath, 'POST', '/containers/e/exec', { Cmd: ['echo', 'hi'], AttachStdout: true, Tty: createTty })).json<{ Id: string }>().Id;
    return (await request(daemon.socketPath, 'POST', `/exec/${id}/start`, { Detach: false, Tty: startTty })).text;
  };
  t.is(await execStream(true, true), 'hi\r\n');
  t.is(await execStream(true, false), '\x01\0\0\0\0\0\0\x04hi\r\n');
  t.is(await execStream(false, true), 'hi\n');
});

test('netctl run -it and exec -it: a shell on a pty, the terminal\'s size, the exit code; -i with a pipe', async (t) => {
  const { netctl, netctlLine } = await setup(t);
  checkSession(t, await onTerminal(`${netctlLine} run --rm -it --network none -- sh`, SESSION));
  t.is((await netctl(['run', '-d', '--name', 'c', '--network', 'none', '--', 'sleep', '300'])).code, 0);
  checkSession(t, await onTerminal(`${netctlLine} exec -it c sh`, SESSION));
  const piped = await netctl(['run', '--rm', '-i', '--network', 'none', '--', 'cat'], 'x\n');
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, 'x\n');
  const notTty = await netctl(['exec', '-it', 'c', 'sh'], '');
  t.is(notTty.code, 1);
  t.is(notTty.stderr, 'the input device is not a TTY\n');
});

test('a restarted daemon reaches the stdin of a container started before it (docker attach)', async (t) => {
  const { daemon, docker, netns } = await setup(t);
  t.is((await docker(['run', '-d', '-i', '--name', 'c', '--network', 'none', 'busybox', 'sh', '-c', 'read line; echo "got $line"; exit 2'])).code, 0);
  t.is(await daemon.stop(), 0);
  const second = await startDaemon(t, { netns, root: daemon.root, runDir: daemon.runDir });
  const again = runner(['docker', '-H', `unix://${second.socketPath}`], {}, 30_000);
  const attached = await again(['attach', 'c'], 'hello\n');
  t.is(attached.code, 2, attached.stderr);
  t.is(attached.stdout, 'got hello\n');
});

test('docker start -ai of a -it container with stdin from /dev/null or a closed pipe: its output and exit code once it exits; as with dockerd 20.10, the end of stdin does not reach a process reading the TTY', async (t) => {
  const { dockerLine } = await setup(t);
  const sh = runner(['sh', '-c'], {}, 30_000);
  await sh([`${dockerLine} create -it --name sai-null busybox sh -c 'echo hi; sleep 0.3; exit 3'`]);
  const fromNull = await sh([`timeout 20 ${dockerLine} start -ai sai-null < /dev/null`]);
  t.is(fromNull.code, 3, fromNull.stderr);
  t.is(fromNull.stdout, 'hi\r\n');
  await sh([`${dockerLine} create -it --name sai-pipe busybox sh`]);
  const fromPipe = await sh([`echo 'echo piped; exit 5' | timeout 20 ${dockerLine} start -ai sai-pipe`]);
  t.is(fromPipe.code, 5, fromPipe.stderr);
  t.regex(fromPipe.stdout, /piped\r\n/);
  // A TTY's reader sees no EOF when the client's stdin ends (dockerd's too): `cat` runs on, and the client waits for it.
  await sh([`${dockerLine} create -it --name sai-cat busybox cat`]);
  t.is((await sh([`timeout 3 ${dockerLine} start -ai sai-cat < /dev/null`])).code, 124);
  t.is((await sh([`${dockerLine} inspect -f '{{.State.Status}}' sai-cat`])).stdout.trim(), 'running');
  await sh([`${dockerLine} rm -f sai-null sai-pipe sai-cat`]);
});
