// `docker ps -f` against netctl's daemon: a filter keeps only the containers it matches (a
// filter ignored would let `docker rm -f $(docker ps -aq -f ...)` remove every container).
import test from 'ava';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';

test('docker ps -f filters by id, name, status, exited, network, ancestor and label; an unknown key is a 400', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-psf');
  const names = async (...filters: string[]): Promise<string[]> =>
    (await ok(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['-f', f])])).split('\n').filter((n) => n !== '').sort();

  await ok(['network', 'create', 'psf-net']);
  t.is((await docker(['run', '--name', 'psf-exit3', '--network', 'none', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
  await ok(['create', '--name', 'psf-created', '--label', 'psf', '--label', 'tier=db', '--network', 'none', 'busybox', 'true']);
  const onNet = await ok(['run', '-d', '--name', 'psf-web', '--network', 'psf-net', '--label', 'tier=web', 'busybox', 'sleep', '60']);
  t.teardown(() => docker(['rm', '-f', 'psf-web']).then(() => undefined));

  t.deepEqual(await names(), ['psf-created', 'psf-exit3', 'psf-web']);
  t.deepEqual(await names(`id=${onNet.slice(0, 12)}`), ['psf-web']);
  t.deepEqual(await names('name=psf-ex'), ['psf-exit3']);
  t.deepEqual(await names('status=created'), ['psf-created']);
  t.deepEqual(await names('status=running'), ['psf-web']);
  t.deepEqual(await names('exited=3'), ['psf-exit3']);
  t.deepEqual(await names('exited=0'), []);
  t.deepEqual(await names('network=psf-net'), ['psf-web']);
  t.deepEqual(await names('ancestor=busybox'), ['psf-created', 'psf-exit3', 'psf-web']);
  t.deepEqual(await names('ancestor=alpine'), []);
  t.deepEqual(await names('label=psf'), ['psf-created']);
  t.deepEqual(await names('label=tier'), ['psf-created', 'psf-web']);
  t.deepEqual(await names('label=tier=web'), ['psf-web']);
  t.deepEqual(await names('label=tier=web', 'label=psf'), []);
  t.deepEqual(await names('label=nope'), []);
  t.deepEqual(JSON.parse(await ok(['inspect', '--format', '{{json .Config.Labels}}', 'psf-created'])), { psf: '', tier: 'db' });
  t.is(await ok(['ps', '--format', '{{.Label "tier"}}', '-f', 'name=psf-web']), 'web');
  t.deepEqual(await names('status=exited', 'name=psf-web'), []);
  // A status filter lists stopped containers without -a, as dockerd does.
  t.is(await ok(['ps', '--format', '{{.Names}}', '-f', 'status=exited']), 'psf-exit3');

  const unknown = await request(daemon.socketPath, 'GET', `/containers/json?filters=${encodeURIComponent('{"x":{"1":true}}')}`);
  t.is(unknown.status, 400);
  t.regex(unknown.text, /Invalid filter 'x'/);
  const cli = await docker(['ps', '-f', 'x=1']);
  t.not(cli.code, 0);
  t.regex(cli.stderr, /Invalid filter 'x'/);
});
