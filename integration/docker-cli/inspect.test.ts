// What `docker inspect -f` users type against netctl's daemon: the older top-level
// NetworkSettings fields (dockerd fills them for the default bridge alone) and the container's
// file paths, as dockerd 20.10 shows them.
import test from 'ava';
import fs from 'node:fs';
import { runner } from '../helpers/cli';
import { startDaemon } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';
import { createTestNamespace } from '../helpers/netns';

test("docker inspect: NetworkSettings.IPAddress and its peers for the default bridge, empty on other networks and once stopped; the container's file paths", async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-insp');
  await ok(['run', '-d', '--name', 'insp-def', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'insp-def']).then(() => undefined));
  const legacy = '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.IPPrefixLen}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}} {{.NetworkSettings.EndpointID}}';
  const onBridge = '{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.IPPrefixLen}} {{.NetworkSettings.Networks.bridge.Gateway}} {{.NetworkSettings.Networks.bridge.MacAddress}} {{.NetworkSettings.Networks.bridge.EndpointID}}';
  const shown = await ok(['inspect', '-f', legacy, 'insp-def']);
  t.regex(shown, /^172\.17\.0\.\d+ 16 172\.17\.0\.1 02:42:ac:11:00:[0-9a-f]{2} [0-9a-f]{64}$/);
  t.is(shown, await ok(['inspect', '-f', onBridge, 'insp-def']));
  t.is(await ok(['exec', 'insp-def', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'"]), `${shown.split(' ')[0]}/16`);

  await ok(['network', 'create', 'insp-net']);
  t.teardown(() => docker(['network', 'rm', 'insp-net']).then(() => undefined));
  await ok(['run', '-d', '--name', 'insp-user', '--network', 'insp-net', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'insp-user']).then(() => undefined));
  t.is(await ok(['inspect', '-f', `[${legacy}]`, 'insp-user']), '[ 0   ]');
  t.is(await ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'insp-def', 'insp-user']), 'default\ninsp-net', "a run without --network shows dockerd's \"default\"");
  t.regex(await ok(['ps', '--format', '{{.Networks}}', '--filter', 'name=insp-def']), /^bridge$/);

  await ok(['stop', '-t', '0', 'insp-def']);
  t.is(await ok(['inspect', '-f', `[${legacy}]`, 'insp-def']), '[ 0   ]');

  const paths = (await ok(['inspect', '-f', '{{.ResolvConfPath}} {{.HostsPath}} {{.HostnamePath}} {{.LogPath}}', 'insp-def'])).split(' ');
  t.is(paths.length, 4);
  for (const file of paths) t.true(file.startsWith('/') && fs.existsSync(file), file);
  t.regex(fs.readFileSync(paths[0]!, 'utf8'), /nameserver/);
  t.is(fs.readFileSync(paths[2]!, 'utf8').trim(), await ok(['inspect', '-f', '{{.Config.Hostname}}', 'insp-def']));
  t.is(await ok(['inspect', '-f', '{{json .Mounts}}', 'insp-def']), '[]');
});

test('a daemon without the default bridge (--bridge none): a run without --network or with --network bridge runs with loopback only, as dockerd 20.10 with --bridge=none', async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-insp0', ['--bridge', 'none']);
  await ok(['run', '-d', '--name', 'nobridge', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'nobridge']).then(() => undefined));
  t.is(await ok(['inspect', '-f', '{{.State.Status}} {{.HostConfig.NetworkMode}} [{{.NetworkSettings.Networks.bridge.IPAddress}}]', 'nobridge']), 'running default []');
  t.is(await ok(['exec', 'nobridge', 'sh', '-c', 'ls /sys/class/net']), 'lo');
  t.is(await ok(['run', '--rm', '--network', 'bridge', 'busybox', 'sh', '-c', 'ls /sys/class/net']), 'lo', 'so does one naming the bridge');
});

test('a container that ran on the default bridge starts again after the daemon restarted with --bridge none (loopback only), and back on the bridge once it has one again', async (t) => {
  const host = createTestNamespace(t, 'nctl-insp1');
  const first = await startDaemon(t, { netns: host.path });
  const docker = (socket: string) => async (args: string[]): Promise<string> => {
    const result = await runner(['docker', '-H', `unix://${socket}`], {}, 30_000)(args);
    t.is(result.code, 0, `docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  await docker(first.socketPath)(['run', '-d', '--name', 'ranbefore', 'busybox', 'sleep', '300']);
  await docker(first.socketPath)(['stop', '-t', '0', 'ranbefore']);
  await first.stop();
  const second = await startDaemon(t, { netns: host.path, root: first.root, runDir: first.runDir, args: ['--bridge', 'none'] });
  await docker(second.socketPath)(['start', 'ranbefore']);
  t.is(await docker(second.socketPath)(['exec', 'ranbefore', 'sh', '-c', 'ls /sys/class/net']), 'lo');
  await docker(second.socketPath)(['stop', '-t', '0', 'ranbefore']);
  await second.stop();
  const third = await startDaemon(t, { netns: host.path, root: first.root, runDir: first.runDir });
  await docker(third.socketPath)(['start', 'ranbefore']);
  t.regex(await docker(third.socketPath)(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'ranbefore']), /^172\.17\.0\.\d+$/, 'the bridge made anew (another ID) is joined by its name');
  await docker(third.socketPath)(['rm', '-f', 'ranbefore']);
});
