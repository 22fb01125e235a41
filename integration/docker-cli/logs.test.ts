// `docker logs` and `netctl logs` with --tail, -t, --since, --until and -f against netctl's
// daemon: lines as dockerd's json-file log counts them, times in its RFC 3339 format.
import { spawn } from 'node:child_process';
import test from 'ava';
import { netctlCli } from '../helpers/cli';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';
import { settled } from '../../test/helpers/until';

const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/;

/** The container writes a, b (stderr), then c, d once /go exists, then e once /end exists, and exits. */
const SCRIPT = 'echo a; echo b >&2; until [ -e /go ]; do sleep 0.05; done; echo c; printf d; printf "\\n"; until [ -e /end ]; do sleep 0.05; done; echo e';

test('logs --tail, -t, --since and --until select lines by count and time, as dockerd', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-lgs');
  await ok(['run', '-d', '--name', 'lgs', '--network', 'none', 'busybox', 'sh', '-c', SCRIPT]);
  t.teardown(() => docker(['rm', '-f', 'lgs']).then(() => undefined));
  await settled(() => docker(['logs', 'lgs']), (r) => r.stderr.includes('b'));
  // Every line so far is before this time; those after /go are after it.
  const between = Date.now() / 1000;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await ok(['exec', 'lgs', 'touch', '/go']);
  await settled(() => ok(['logs', 'lgs']), (out) => out.endsWith('d'));

  // The last two lines of every stream: a line written in two pieces (d) is one.
  t.is(await ok(['logs', '--tail', '2', 'lgs']), 'c\nd');
  const lastThree = await docker(['logs', '--tail', '3', 'lgs']);
  t.is(lastThree.stdout, 'c\nd\n');
  t.is(lastThree.stderr, 'b\n');
  t.is(await ok(['logs', '--tail', '0', 'lgs']), '');

  const stamped = await docker(['logs', '-t', 'lgs']);
  const lines = [...stamped.stdout.trim().split('\n'), ...stamped.stderr.trim().split('\n')].map((line) => STAMPED.exec(line));
  t.true(lines.every((m) => m !== null), `${stamped.stdout}${stamped.stderr}`);
  t.deepEqual(lines.map((m) => m![2]).sort(), ['a', 'b', 'c', 'd']);
  const times = Object.fromEntries(lines.map((m) => [m![2], Date.parse(m![1]!)]));
  t.true(times['a']! <= between * 1000 && times['b']! <= between * 1000, 'a and b were logged before the mark');
  t.true(times['c']! >= between * 1000, 'c was logged after it');
  t.true(Math.abs(times['a']! - Date.now()) < 60_000, 'times are the wall clock');

  t.is(await ok(['logs', '--since', between.toFixed(6), 'lgs']), 'c\nd');
  const before = await docker(['logs', '--until', between.toFixed(6), 'lgs']);
  t.deepEqual([before.stdout, before.stderr], ['a\n', 'b\n']);
  // tail counts first, then since: the last three lines, of which two are after the mark.
  t.is(await ok(['logs', '--tail', '3', '--since', between.toFixed(6), 'lgs']), 'c\nd');

  // netctl's CLI reads the same flags as Docker's (dates, durations).
  const netctl = netctlCli(daemon.socketPath);
  const mine = await netctl(['logs', '-n', '1', '-t', '--since', '10m', 'lgs']);
  t.is(mine.code, 0, mine.stderr);
  t.regex(mine.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z d\n$/);
  t.is((await netctl(['logs', '--until', new Date(Date.now() - 3_600_000).toISOString(), 'lgs'])).stdout, '');

  const bad = await request(daemon.socketPath, 'GET', '/containers/lgs/logs?stdout=1&since=yesterday');
  t.is(bad.status, 400);
  t.regex((JSON.parse(bad.text) as { message: string }).message, /invalid value "yesterday" for since/);
});

test('logs -f --tail 1: the last line, then what comes, until the container exits', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-lgf');
  await ok(['run', '-d', '--name', 'lgf', '--network', 'none', 'busybox', 'sh', '-c', SCRIPT]);
  t.teardown(() => docker(['rm', '-f', 'lgf']).then(() => undefined));
  await ok(['exec', 'lgf', 'touch', '/go']);
  await settled(() => ok(['logs', 'lgf']), (out) => out.endsWith('d'));
  const follower = spawn('docker', ['-H', `unix://${daemon.socketPath}`, 'logs', '-f', '-t', '--tail', '1', 'lgf'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void follower.kill());
  let out = '';
  follower.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const ended = new Promise<number | null>((resolve) => follower.once('close', resolve));
  await settled(() => Promise.resolve(out), (text) => text.includes(' d\n'));
  await ok(['exec', 'lgf', 'touch', '/end']);
  const timer = setTimeout(() => follower.kill(), 20_000);
  t.is(await ended, 0, 'the follow ends with the container');
  clearTimeout(timer);
  t.deepEqual(out.trim().split('\n').map((line) => STAMPED.exec(line)?.[2]), ['d', 'e']);
});
