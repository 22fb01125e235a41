// A callback the addon calls from the event loop that throws must not end the process: through
// native() the TypeScript guard reports it, and through the addon as built its C++ line does.
// Each kind of callback throws once in a process inside a test host, then is called again.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestNamespace } from '../helpers/netns';

const run = promisify(execFile);
const HELPER = path.resolve(__dirname, '..', 'helpers', 'throwing-callbacks.js');
const WORKED = { udp: true, datagrams: true, offloaded: true, runProcess: true, spawnStreaming: true };

async function throwEach(t: Parameters<typeof createTestNamespace>[0], mode: 'guarded' | 'unguarded'): Promise<{ stdout: string; stderr: string }> {
  const host = createTestNamespace(t, 'nctl-cb');
  host.run('ip', 'link', 'set', 'lo', 'up');
  return run('nsenter', [`--net=${host.path}`, process.execPath, HELPER, mode], { timeout: 20_000 }).catch((error: { code?: number; signal?: string; stdout: string; stderr: string }) => {
    throw new Error(`the process ended (code ${error.code}, signal ${error.signal}):\n${error.stderr}`);
  });
}

test('through native(): every callback that throws is reported, and each works again after', async (t) => {
  const { stdout, stderr } = await throwEach(t, 'guarded');
  t.deepEqual(JSON.parse(stdout), WORKED);
  for (const what of ['a UDP batch callback threw, ignored: Error: udp boom', 'a netlink datagram callback threw, ignored: Error: netlink datagrams boom', 'a netlink send callback threw, ignored: Error: netlink send boom', 'the completion callback of /bin/true threw, ignored: Error: runProcess boom', 'the start callback of /bin/true threw, ignored: Error: spawnStreaming boom']) {
    t.true(stderr.includes(`netctl: ${what}`), `${what}\n${stderr}`);
  }
});

test('the addon as built: its own catch keeps the process alive when a callback throws', async (t) => {
  const { stdout, stderr } = await throwEach(t, 'unguarded');
  t.deepEqual(JSON.parse(stdout), WORKED);
  for (const what of ['a UDP batch callback threw, ignored: udp boom', 'a netlink datagram callback threw, ignored: netlink datagrams boom', 'a netlink send callback threw, ignored: netlink send boom', "a process's callback threw, ignored: runProcess boom", "a process's callback threw, ignored: spawnStreaming boom"]) {
    t.true(stderr.includes(`netctl addon: ${what}`), `${what}\n${stderr}`);
  }
});
