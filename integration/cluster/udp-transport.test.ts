// The UDP/TCP transport's bounds, inside a test host: packets and streams over their size are
// refused, silent peers time out, idle clients are cut off, a closed port refuses.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestNamespace } from '../helpers/netns';

const HELPER = path.resolve(__dirname, '..', 'helpers', 'udp-transport-check.js');

test('packets and streams are bounded in size and time', async (t) => {
  const host = createTestNamespace(t, 'nctl-udp');
  host.run('ip', 'link', 'set', 'lo', 'up');
  const { stdout } = await promisify(execFile)('nsenter', [`--net=${host.path}`, process.execPath, HELPER], { timeout: 30_000 });
  const r = JSON.parse(stdout) as Record<string, any>;
  t.regex(r.a, /^127\.0\.0\.1:\d+$/);
  t.deepEqual(r.packet, { text: 'hello', from: r.a });
  t.is(r.oversizedSend.code, 'too-large');
  t.deepEqual(r.exchange, { ok: 'echo:hi' });
  // The server refuses to send more than the bound: the client sees the stream closed.
  t.is(r.answerTooLarge.code, 'refused');
  t.is(r.noAnswer.code, 'refused');
  t.is(r.requestTooLarge.code, 'too-large');
  t.is(r.trickled, 'echo:slow-request', 'a frame arriving in pieces, its header split too, is read whole');
  t.is(r.silentServer.code, 'timeout');
  t.true(r.silentServer.ms >= 350 && r.silentServer.ms < 5_000, `silent server gave up after ${r.silentServer.ms} ms`);
  t.is(r.refused.code, 'refused');
  t.true(r.idleClientClosedAfterMs >= 250 && r.idleClientClosedAfterMs < 5_000, `idle client cut after ${r.idleClientClosedAfterMs} ms`);
  t.true(r.udpPortTaken);
  t.deepEqual(r.survivedResets, { ok: 900 }, 'peers that reset before the answer do not end the transport');
});
