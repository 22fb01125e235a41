// Docker commands whose API netctl does not implement are answered with a 501 that names what is
// not supported and why, not a 404 "page not found" that reads as a wrong name.
import test from 'ava';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';
import { daemonRouter, type DaemonParts } from '../../src/api/routes';
import { isUnsupportedRoute } from '../../src/api/unsupported';

test('docker pause, diff, volume, cp, tag and history are refused with what netctl lacks', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-uns5');
  await ok(['run', '-d', '--name', 'uns-c', '--network', 'none', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'uns-c']).then(() => undefined));
  for (const [args, wanted] of [
    [['pause', 'uns-c'], /pausing a container \(docker pause\) is not supported by netctl: netctl puts containers in no cgroup/],
    [['diff', 'uns-c'], /a container's file changes \(docker diff\) is not supported by netctl/],
    [['volume', 'ls'], /volumes \(docker volume ls\) is not supported by netctl: netctl has no volumes/],
    [['volume', 'create', 'v'], /volumes \(docker volume create, docker-compose volumes\) is not supported/],
    [['cp', 'uns-c:/etc/hostname', '-'], /copying from a container \(docker cp\) is not supported/],
    [['tag', 'busybox', 'other'], /tagging an image \(docker tag\) is not supported/],
    [['history', 'busybox'], /an image's history \(docker history\) is not supported/],
  ] as const) {
    const result = await docker([...args]);
    t.not(result.code, 0, args.join(' '));
    t.regex(result.stderr, wanted, args.join(' '));
  }
  t.is(await ok(['inspect', '--format', '{{.State.Status}}', 'uns-c']), 'running');

  const routes = daemonRouter({ engine: { version: 'test' } } as DaemonParts).list().filter((r) => isUnsupportedRoute(r.method, r.pattern));
  t.true(routes.length > 20);
  for (const route of routes) {
    const reply = await request(daemon.socketPath, route.method, `/v1.41${route.pattern.replace(/\{[^}]+\}/g, 'uns-c')}`);
    t.is(reply.status, 501, `${route.method} ${route.pattern}`);
    if (route.method !== 'HEAD') t.regex(reply.text, /"message":".* is not supported by netctl: /, `${route.method} ${route.pattern}`);
  }
});
