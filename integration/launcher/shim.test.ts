// A container start that hangs is killed by netctl-shim's own deadline. The daemon cannot kill
// it: the process it spawned has exited at once (the shim detaches), and what hangs is the
// shim's detached copy or its child. FIFOs make the hangs here: opening one blocks until a
// writer comes, and none does.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContainerStartError, startShim } from '../../src/launcher/shim';
import { killContainersUnder, shimPids } from '../helpers/shims';

/** Waits at most `ms` for the shims of `stateDir` to be gone; returns those still running. */
async function noShimsWithin(stateDir: string, ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  const shimsOf = (): number[] => shimPids((dir) => dir === stateDir);
  let left = shimsOf();
  while (left.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = shimsOf();
  }
  return left;
}

function stateDirFor(t: { teardown(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-shim-'));
  t.teardown(() => {
    killContainersUnder(root);
    fs.rmSync(root, { recursive: true, force: true });
  });
  const stateDir = path.join(root, 'container');
  fs.mkdirSync(stateDir);
  return stateDir;
}

const request = (stateDir: string, netns: string) => ({ stateDir, netns, rootfs: '/nonexistent', hostname: 'h', workdir: '/', cmd: ['/bin/true'], env: [], startTimeoutMs: 300 });

test('a child hung before exec (its sandbox a FIFO) is killed at the deadline, with an error that says so', async (t) => {
  const stateDir = stateDirFor(t);
  const fifo = path.join(stateDir, 'netns');
  execFileSync('mkfifo', [fifo]);
  const started = Date.now();
  const error = await t.throwsAsync(startShim(request(stateDir, fifo)), { instanceOf: ContainerStartError });
  t.regex(error!.message, /did not start within 300 ms .*hung.*killed/);
  t.true(Date.now() - started < 5_000, 'the shim kept its own deadline, not the daemon\'s backstop');
  t.deepEqual(await noShimsWithin(stateDir, 10_000), [], 'neither the shim nor its child lives on');
});

test('a shim hung in its own set-up (its log a FIFO) keeps the same deadline', async (t) => {
  const stateDir = stateDirFor(t);
  execFileSync('mkfifo', [path.join(stateDir, 'log')]);
  const error = await t.throwsAsync(startShim(request(stateDir, '/proc/self/ns/net')), { instanceOf: ContainerStartError });
  t.regex(error!.message, /did not start within 300 ms/);
  t.deepEqual(await noShimsWithin(stateDir, 10_000), []);
});

test('a start that fails fast still says why, well inside the deadline', async (t) => {
  const stateDir = stateDirFor(t);
  const error = await t.throwsAsync(startShim({ ...request(stateDir, path.join(stateDir, 'missing')), startTimeoutMs: 10_000 }), { instanceOf: ContainerStartError });
  t.regex(error!.message, /open sandbox .*missing: No such file or directory/);
  t.deepEqual(await noShimsWithin(stateDir, 10_000), []);
});
