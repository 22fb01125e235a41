// docker network connect --link and --link-local-ip: netctl has neither, so the connect is
// refused and nothing is connected, instead of connecting without them.
import test from 'ava';
import { dockerAgainst } from '../helpers/docker-cli';

test('network connect --link or --link-local-ip is a 400 naming the option, and the container stays off the network', async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-lnk');
  await ok(['network', 'create', 'lnk-a']);
  await ok(['network', 'create', 'lnk-b']);
  await ok(['run', '-d', '--name', 'lnk-target', '--network', 'lnk-a', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'lnk-target']).then(() => undefined));
  await ok(['run', '-d', '--name', 'lnk-c', '--network', 'lnk-b', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'lnk-c']).then(() => undefined));

  const linked = await docker(['network', 'connect', '--link', 'lnk-target:t', 'lnk-a', 'lnk-c']);
  t.not(linked.code, 0);
  t.regex(linked.stderr, /EndpointConfig\.Links \(--link\) is not supported by netctl/);
  const linkLocal = await docker(['network', 'connect', '--link-local-ip', '169.254.8.8', 'lnk-a', 'lnk-c']);
  t.not(linkLocal.code, 0);
  t.regex(linkLocal.stderr, /IPAMConfig\.LinkLocalIPs \(--link-local-ip\) is not supported by netctl/);
  t.is(await ok(['inspect', '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}', 'lnk-c']), 'lnk-b');
  await ok(['network', 'connect', '--alias', 't', 'lnk-a', 'lnk-c']);
});
