// --stop-timeout (docker-compose's stop_grace_period): a stop that names no time waits that long
// before the kill, instead of Docker's default 10 s.
import test from 'ava';
import { dockerAgainst } from '../helpers/docker-cli';

test('docker stop without -t waits the container\'s --stop-timeout, then kills', async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-stt');
  // sleep as the container's first process ignores SIGTERM: only the kill ends it.
  await ok(['run', '-d', '--name', 'stt-c', '--stop-timeout', '1', '--network', 'none', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'stt-c']).then(() => undefined));
  t.is(await ok(['inspect', '--format', '{{.Config.StopTimeout}}', 'stt-c']), '1');
  const started = Date.now();
  await ok(['stop', 'stt-c']);
  const seconds = (Date.now() - started) / 1000;
  t.true(seconds >= 1 && seconds < 8, `stopped after ${seconds} s`);
  t.is(await ok(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'stt-c']), 'exited 137');
});
