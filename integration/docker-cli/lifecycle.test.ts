// Docker's container lifecycle commands against netctl's daemon: restart keeps a container's
// static address, rename moves the container's DNS name, prune removes only stopped containers.
import test from 'ava';
import { request } from '../helpers/daemon';
import { daemonWithCli } from '../helpers/containers';
import { dockerAgainst } from '../helpers/docker-cli';
import { createTestNamespace } from '../helpers/netns';

test('docker restart keeps the container\'s --ip, and it answers on it again', async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-rst');
  await ok(['network', 'create', '--subnet', '10.91.0.0/24', 'rst-net']);
  await ok(['run', '-d', '--name', 'rst-web', '--network', 'rst-net', '--ip', '10.91.0.50', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'rst-web']).then(() => undefined));
  await ok(['run', '-d', '--name', 'rst-peer', '--network', 'rst-net', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'rst-peer']).then(() => undefined));
  const pid = async (): Promise<string> => ok(['inspect', '--format', '{{.State.Pid}}', 'rst-web']);
  const before = await pid();

  await ok(['restart', '-t', '1', 'rst-web']);
  t.not(await pid(), before, 'a new process runs');
  t.is(await ok(['inspect', '--format', '{{.State.Status}} {{(index .NetworkSettings.Networks "rst-net").IPAddress}}', 'rst-web']), 'running 10.91.0.50');
  await ok(['exec', 'rst-peer', 'ping', '-c', '1', '-W', '5', '10.91.0.50']);

  // A stopped container is started by restart, as by dockerd.
  await ok(['stop', '-t', '1', 'rst-web']);
  await ok(['restart', 'rst-web']);
  t.is(await ok(['inspect', '--format', '{{.State.Status}}', 'rst-web']), 'running');
  // A --rm container outlives its restart, as with dockerd.
  await ok(['run', '-d', '--rm', '--name', 'rst-rm', '--network', 'none', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'rst-rm']).then(() => undefined));
  await ok(['restart', '-t', '1', 'rst-rm']);
  t.is(await ok(['inspect', '--format', '{{.State.Status}}', 'rst-rm']), 'running');
  const missing = await docker(['restart', 'rst-nope']);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /No such container: rst-nope/);
});

test('docker container prune removes only stopped containers, by label and until', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-prn');
  await ok(['run', '-d', '--name', 'prn-up', '--network', 'none', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'prn-up']).then(() => undefined));
  await ok(['create', '--name', 'prn-created', '--network', 'none', 'busybox', 'true']);
  await ok(['run', '--name', 'prn-keep', '--label', 'keep', '--network', 'none', 'busybox', 'true']);
  const exitedId = await ok(['run', '-d', '--name', 'prn-exited', '--network', 'none', 'busybox', 'true']);
  await ok(['wait', 'prn-exited']);
  const names = async (): Promise<string[]> => (await ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter((n) => n !== '').sort();

  // Nothing is older than an hour: until keeps everything.
  await ok(['container', 'prune', '-f', '--filter', 'until=1h']);
  t.deepEqual(await names(), ['prn-created', 'prn-exited', 'prn-keep', 'prn-up']);

  const pruned = await request(daemon.socketPath, 'POST', `/containers/prune?filters=${encodeURIComponent('{"label!":{"keep":true}}')}`);
  t.is(pruned.status, 200);
  const body = JSON.parse(pruned.text) as { ContainersDeleted: string[]; SpaceReclaimed: number };
  t.true(body.ContainersDeleted.includes(exitedId));
  t.is(body.ContainersDeleted.length, 2);
  t.deepEqual(await names(), ['prn-keep', 'prn-up']);

  const none = await request(daemon.socketPath, 'POST', '/containers/prune?filters=' + encodeURIComponent('{"label":{"nope":true}}'));
  t.deepEqual(JSON.parse(none.text), { ContainersDeleted: null, SpaceReclaimed: 0 });
  const bad = await request(daemon.socketPath, 'POST', '/containers/prune?filters=' + encodeURIComponent('{"name":{"x":true}}'));
  t.is(bad.status, 400);
  t.regex(bad.text, /Invalid filter 'name'/);

  await ok(['container', 'prune', '-f']);
  t.deepEqual(await names(), ['prn-up']);
});

test('docker rename: a peer resolves the container by its new name, no longer by the old one', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-ren');
  await ok(['network', 'create', '--subnet', '10.92.0.0/24', 'ren-net']);
  await ok(['run', '-d', '--name', 'ren-old', '--network', 'ren-net', '--ip', '10.92.0.60', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'ren-new']).then(() => undefined));
  await ok(['run', '-d', '--name', 'ren-peer', '--network', 'ren-net', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'ren-peer']).then(() => undefined));
  t.regex(await ok(['exec', 'ren-peer', 'nslookup', 'ren-old']), /10\.92\.0\.60/);

  await ok(['rename', 'ren-old', 'ren-new']);
  t.regex(await ok(['exec', 'ren-peer', 'nslookup', 'ren-new']), /10\.92\.0\.60/);
  t.not((await docker(['exec', 'ren-peer', 'nslookup', 'ren-old'])).code, 0);
  t.is(await ok(['inspect', '--format', '{{.Name}}', 'ren-new']), '/ren-new');
  t.not((await docker(['inspect', 'ren-old'])).code, 0);

  const taken = await docker(['rename', 'ren-new', 'ren-peer']);
  t.not(taken.code, 0);
  t.regex(taken.stderr, /Error when allocating new name: Conflict\. The container name "\/ren-peer" is already in use/);
  const status = await request(daemon.socketPath, 'POST', '/containers/ren-new/rename?name=ren-peer');
  t.is(status.status, 409);
});

test('netctl start, restart, rename and container prune', async (t) => {
  const host = createTestNamespace(t, 'nctl-lcli');
  const { netctl } = await daemonWithCli(t, { netns: host.path });
  const ok = async (args: string[]): Promise<string> => {
    const result = await netctl(args);
    t.is(result.code, 0, `netctl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const state = async (name: string): Promise<string> => JSON.parse(await ok(['inspect', name]))[0].State.Status as string;
  await ok(['run', '-d', '--name', 'lc-a', '--network', 'none', 'sleep', '300']);
  await ok(['stop', '-t', '1', 'lc-a']);
  t.is(await ok(['start', 'lc-a']), 'lc-a');
  t.is(await state('lc-a'), 'running');
  const pid = JSON.parse(await ok(['inspect', 'lc-a']))[0].State.Pid as number;
  t.is(await ok(['restart', '-t', '1', 'lc-a']), 'lc-a');
  t.not(JSON.parse(await ok(['inspect', 'lc-a']))[0].State.Pid, pid);
  await ok(['rename', 'lc-a', 'lc-b']);
  t.is(await state('lc-b'), 'running');
  t.not((await netctl(['inspect', 'lc-a'])).code, 0);
  const taken = await netctl(['rename', 'lc-b', 'lc-b']);
  t.not(taken.code, 0);
  t.regex(taken.stderr, /same name as its current name/);

  await ok(['run', '--name', 'lc-done', '--network', 'none', 'true']);
  const pruned = await ok(['container', 'prune', '-f']);
  t.regex(pruned, /^Deleted Containers:\n[0-9a-f]{64}$/);
  t.is((await ok(['ps', '-aq'])).split('\n').length, 1);
  t.is(await state('lc-b'), 'running');
  t.not((await netctl(['prune'])).code, 0, 'prune is only `container prune`');
});

test('docker run with an option netctl does not implement is refused with a 400 that names it', async (t) => {
  const { daemon, docker } = await dockerAgainst(t, 'nctl-uns');
  for (const [args, wanted] of [
    [['-v', '/tmp:/x'], /HostConfig\.Binds \(-v\) is not supported by netctl/],
    [['--tmpfs', '/x'], /HostConfig\.Tmpfs \(--tmpfs\) is not supported/],
    [['-m', '64m'], /HostConfig\.Memory \(-m\) is not supported/],
    [['--entrypoint', 'sh'], /Entrypoint \(--entrypoint\) is not supported/],
    // Resource and cgroup options, which Docker's CLI sends as given and netctl cannot apply.
    [['--memory-reservation', '10m'], /HostConfig\.MemoryReservation \(--memory-reservation\) is not supported/],
    [['--oom-kill-disable'], /HostConfig\.OomKillDisable \(--oom-kill-disable\)/],
    [['--oom-score-adj', '5'], /HostConfig\.OomScoreAdj \(--oom-score-adj\)/],
    [['--cpu-quota', '5000'], /HostConfig\.CpuQuota \(--cpu-quota\)/],
    [['--cpuset-mems', '0'], /HostConfig\.CpusetMems \(--cpuset-mems\)/],
    [['--blkio-weight', '100'], /HostConfig\.BlkioWeight \(--blkio-weight\)/],
    [['--cgroup-parent', 'x'], /HostConfig\.CgroupParent \(--cgroup-parent\)/],
    [['--cgroupns', 'private'], /HostConfig\.CgroupnsMode \(--cgroupns\)/],
    [['--runtime', 'runc'], /HostConfig\.Runtime \(--runtime\)/],
    [['--storage-opt', 'size=1G'], /HostConfig\.StorageOpt \(--storage-opt\)/],
    [['--memory-swappiness', '10'], /HostConfig\.MemorySwappiness \(--memory-swappiness\)/],
    [['--volume-driver', 'x'], /HostConfig\.VolumeDriver \(--volume-driver\)/],
  ] as const) {
    const result = await docker(['run', '--network', 'none', ...args, 'busybox', 'true']);
    t.is(result.code, 125, args.join(' '));
    t.regex(result.stderr, wanted);
  }
  const refused = await request(daemon.socketPath, 'POST', '/containers/create', { Cmd: ['true'], HostConfig: { NetworkMode: 'none', Binds: ['/tmp:/x'] } });
  t.is(refused.status, 400);
  t.is((await docker(['ps', '-aq'])).stdout.trim(), '', 'nothing was created');
  t.is((await docker(['run', '--network', 'none', '--restart', 'no', 'busybox', 'true'])).code, 0);
});
