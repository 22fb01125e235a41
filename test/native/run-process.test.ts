// runProcess without root: /bin/sh scripts stand in for iptables. Input reaches stdin, large
// outputs on both pipes come back whole (no deadlock), exit codes and signals are told apart, a
// missing file is an errno error, parallel runs leave no descriptor behind, and a child that
// closes its stdin early is reported, not a crash, a run past its timeout is killed; spawnStreaming
// streams output as it comes and reaps the process.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../../src/native/addon';
import { locateTool, type ProcessResult, runProcess, spawnStreaming } from '../../src/native/process';

const run = (file: string, argv: string[], input?: Buffer, env?: Record<string, string>): Promise<ProcessResult> => runProcess(file, argv, { ...(input ? { input } : {}), ...(env ? { env } : {}) });

const sh = (script: string, input?: Buffer): Promise<ProcessResult> => run('/bin/sh', ['sh', '-c', script], input);
const openDescriptors = (): number => fs.readdirSync('/proc/self/fd').length;

// Serial, and so before the others: the count of open descriptors must not see theirs.
test.serial('50 runs in parallel all succeed and leave no descriptor open', async (t) => {
  t.timeout(30_000);
  await sh('true');
  const before = openDescriptors();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => sh('cat; echo " $1" >&2', Buffer.from(`run ${i}`))));
  results.forEach((r, i) => {
    t.is(r.status, 0);
    t.is(r.stdout.toString(), `run ${i}`);
    t.is(r.stderr.toString(), ' \n');
  });
  t.is(openDescriptors(), before);
});

test('input reaches stdin and comes back on stdout, also larger than a pipe holds', async (t) => {
  t.timeout(10_000);
  const small = await sh('cat', Buffer.from('*filter\nCOMMIT\n'));
  t.is(small.status, 0);
  t.is(small.stdout.toString(), '*filter\nCOMMIT\n');
  t.is(small.stderr.length, 0);
  // cat writes while we still feed it: both pipes fill unless they are served together.
  const large = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
  const echoed = await sh('cat', large);
  t.is(echoed.status, 0);
  t.true(echoed.stdout.equals(large));
});

test('without input, stdin is at end of file at once', async (t) => {
  t.timeout(10_000);
  const result = await sh('wc -c');
  t.is(result.status, 0);
  t.is(result.stdout.toString().trim(), '0');
});

test('more than 1 MiB on both stdout and stderr comes back whole, whichever fills first', async (t) => {
  t.timeout(10_000);
  const result = await sh('head -c 1300000 /dev/zero >&2; head -c 1500000 /dev/zero; head -c 200000 /dev/zero >&2');
  t.is(result.status, 0);
  t.is(result.stdout.length, 1_500_000);
  t.is(result.stderr.length, 1_500_000);
});

test('the exit code is the status', async (t) => {
  t.timeout(10_000);
  const result = await sh('echo refused >&2; exit 3');
  t.is(result.status, 3);
  t.is(result.stderr.toString(), 'refused\n');
});

test('a child killed by a signal has status 128 + the signal', async (t) => {
  t.timeout(10_000);
  t.is((await sh('kill -KILL $$')).status, 137);
});

test('the child does not inherit the SIGPIPE Node ignores', async (t) => {
  t.timeout(10_000);
  // An ignored signal would leave the shell running on to exit 0.
  t.is((await sh('kill -PIPE $$; exit 0')).status, 141);
});

test('a file that does not exist is an errno error', async (t) => {
  t.timeout(10_000);
  const error = await t.throwsAsync(run('/nonexistent/iptables-restore', ['iptables-restore']));
  t.is((error as NodeJS.ErrnoException).code, 'ENOENT');
  t.is((error as NodeJS.ErrnoException).syscall, 'posix_spawn');
});

test('a child that closes its stdin before reading a large input is reported, not an error', async (t) => {
  t.timeout(10_000);
  const result = await sh('exec 0<&-; echo gone >&2; exit 5', Buffer.alloc(8 * 1024 * 1024, 'x'));
  t.is(result.status, 5);
  t.is(result.stderr.toString(), 'gone\n');
});

test('the child gets the environment given, or else this process’s', async (t) => {
  t.timeout(10_000);
  t.is((await run('/bin/sh', ['sh', '-c', 'echo "$A|$HOME"'], undefined, { A: 'given' })).stdout.toString(), 'given|\n');
  t.is((await sh('echo "$HOME"')).stdout.toString(), `${process.env['HOME'] ?? ''}\n`);
});

test('arguments are checked before anything starts', (t) => {
  const callback = (): void => t.fail('no run expected');
  t.throws(() => native().runProcess('/bin/true', [], undefined, undefined, undefined, callback), { instanceOf: TypeError });
  t.throws(() => native().runProcess('/bin/true', ['true', 'a\0b'], undefined, undefined, undefined, callback), { instanceOf: TypeError });
  t.throws(() => native().runProcess('/bin/true', ['true'], 'text' as unknown as Buffer, undefined, undefined, callback), { instanceOf: TypeError });
  t.throws(() => native().runProcess('/bin/true', ['true'], undefined, [1] as unknown as string[], undefined, callback), { instanceOf: TypeError });
  t.throws(() => native().runProcess('/bin/true', ['true'], undefined, undefined, -1, callback), { instanceOf: RangeError });
  t.throws(() => native().runProcess('/bin/true', ['true'], undefined, undefined, '5' as unknown as number, callback), { instanceOf: TypeError });
});

/** Runs `script` (which writes its PID to the file given as $1) with a 300 ms timeout; returns the error and that PID. */
async function timedOut(t: { teardown(fn: () => void): void }, script: string): Promise<{ error: NodeJS.ErrnoException; pid: number }> {
  const pidFile = `${fs.mkdtempSync('/tmp/nctl-rp-')}/pid`;
  t.teardown(() => fs.rmSync(pidFile.slice(0, -4), { recursive: true, force: true }));
  const started = Date.now();
  const error = await runProcess('/bin/sh', ['sh', '-c', script, 'sh', pidFile], { timeoutMs: 300 }).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  if (!error) throw new Error('the run was expected to time out');
  if (Date.now() - started > 5_000) throw new Error(`the timeout took ${Date.now() - started} ms`);
  return { error, pid: Number(fs.readFileSync(pidFile, 'utf8')) };
}

const isGone = (pid: number): boolean => !fs.existsSync(`/proc/${pid}`);

test('a child still running after its timeout is killed and reaped, with ETIMEDOUT', async (t) => {
  t.timeout(10_000);
  const { error, pid } = await timedOut(t, 'echo $$ > "$1"; exec sleep 30');
  t.is(error.code, 'ETIMEDOUT');
  t.regex(error.message, /still running after 300 ms: killed/);
  t.true(isGone(pid), 'killed and reaped: not even a zombie');
});

test('a child that let go of its output but runs on also times out', async (t) => {
  t.timeout(10_000);
  const { error, pid } = await timedOut(t, 'echo $$ > "$1"; exec sleep 30 </dev/null >/dev/null 2>&1');
  t.is(error.code, 'ETIMEDOUT');
  t.true(isGone(pid));
});

test('a child done within its timeout is reported as usual', async (t) => {
  t.timeout(10_000);
  const result = await runProcess('/bin/sh', ['sh', '-c', 'echo done; exit 3'], { timeoutMs: 5_000 });
  t.is(result.status, 3);
  t.is(result.stdout.toString(), 'done\n');
});

/** Runs a shell script through spawnStreaming: what came on each stream, in order, and the exit code. */
async function streamed(script: string, env?: Record<string, string>): Promise<{ chunks: string[]; status: number }> {
  const child = await spawnStreaming('/bin/sh', ['sh', '-c', script], env ? { env } : {});
  const chunks: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(`1:${chunk.toString()}`));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(`2:${chunk.toString()}`));
  return { chunks, status: await child.exited };
}

test.serial('spawnStreaming: output arrives as it comes, on its stream, then the exit code; no descriptor is left open', async (t) => {
  t.timeout(20_000);
  await streamed('true');
  const before = openDescriptors();
  const { chunks, status } = await streamed('echo out; sleep 0.2; echo err >&2; exit 4');
  t.deepEqual(chunks, ['1:out\n', '2:err\n']);
  t.is(status, 4);
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => streamed(`echo ${i}`)));
  many.forEach((run, i) => t.deepEqual(run, { chunks: [`1:${i}\n`], status: 0 }));
  t.is(openDescriptors(), before);
});

test('spawnStreaming: stdin is empty, the environment is the one given, a signal is 128 + it', async (t) => {
  t.timeout(10_000);
  t.deepEqual(await streamed('cat; echo "[$A]"', { A: 'given' }), { chunks: ['1:[given]\n'], status: 0 });
  t.is((await streamed('kill -9 $$')).status, 137);
});

test('spawnStreaming: a process that closes its output and runs on is waited for', async (t) => {
  t.timeout(10_000);
  const started = Date.now();
  t.is((await streamed('exec >&- 2>&-; sleep 0.3; exit 2')).status, 2);
  t.true(Date.now() - started >= 300);
});

test('spawnStreaming: a file that cannot be run is an errno error; tools are found on PATH or named', async (t) => {
  await t.throwsAsync(spawnStreaming('/nonexistent/tool', ['tool']), { code: 'ENOENT' });
  t.true(path.isAbsolute(locateTool('sh', 'dash')));
  t.throws(() => locateTool('nctl-no-such-tool', 'some-package'), { code: 'ENOENT', message: /nctl-no-such-tool not found on PATH .*: install some-package/ });
});
