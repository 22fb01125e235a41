// docker top against netctl: the container's processes (those of its PID namespace) from the
// host's ps, with ps_args; Docker's 409 when it is not running.
import test from 'ava';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';

test('docker top lists the container\'s processes and no others; stopped, a 409', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-top');
  await ok(['run', '-d', '--name', 'top-c', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 301 & exec sleep 302']);
  t.teardown(() => docker(['rm', '-f', 'top-c']).then(() => undefined));
  await ok(['run', '-d', '--name', 'top-other', '--network', 'none', 'busybox', 'sleep', '303']);
  t.teardown(() => docker(['rm', '-f', 'top-other']).then(() => undefined));
  const pid = await ok(['inspect', '--format', '{{.State.Pid}}', 'top-c']);

  const reply = await request(daemon.socketPath, 'GET', '/v1.41/containers/top-c/top');
  t.is(reply.status, 200, reply.text);
  const table = reply.json<{ Titles: string[]; Processes: string[][] }>();
  t.deepEqual(table.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  t.deepEqual(table.Processes.map((row) => row[7]).sort(), ['sleep 301', 'sleep 302']);
  t.true(table.Processes.some((row) => row[1] === pid));
  t.regex(await ok(['top', 'top-c', '-o', 'pid,comm']), /^PID +COMMAND\n\d+ +sleep\n\d+ +sleep$/);

  const noPid = await request(daemon.socketPath, 'GET', `/v1.41/containers/top-c/top?ps_args=${encodeURIComponent('-o comm')}`);
  t.is(noPid.status, 400);
  t.regex(noPid.text, /Couldn't find PID field/);
  await ok(['stop', '-t', '0', 'top-c']);
  const stopped = await docker(['top', 'top-c']);
  t.not(stopped.code, 0);
  t.regex(stopped.stderr, /Container [0-9a-f]{64} is not running/);
});
