// docker network connect --link: netctl has no legacy links, so the connect is refused and
// nothing is connected, instead of connecting without the link.
import test from 'ava';
import { dockerAgainst } from '../helpers/docker-cli';

test('network connect --link is a 400 naming the option, and the container stays off the network', async (t) => {
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
  t.is(await ok(['inspect', '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}', 'lnk-c']), 'lnk-b');
  await ok(['network', 'connect', '--alias', 't', 'lnk-a', 'lnk-c']);
});
