// Docker's restart policies and AutoRemove, driven with Docker's CLI (and netctl's) against
// netctl's daemon, checked as dockerd 20.10 behaves: on-failure:N restarts N times, always
// restarts after its process dies and at the daemon's start, a user's stop or kill ends it, --rm
// with -d has the daemon remove the container.
import test from 'ava';
import { netctlCli } from '../helpers/cli';
import { request, startDaemon } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';
import { settled } from '../../test/helpers/until';

test('--restart on-failure:2: restarted twice (die, start as dockerd), then it stays exited with RestartCount 2', async (t) => {
  const { ok } = await dockerAgainst(t, 'nctl-rpf');
  await ok(['run', '-d', '--name', 'rpf', '--restart', 'on-failure:2', '--network', 'none', 'busybox', 'sh', '-c', 'echo ran; exit 3']);
  const state = (): Promise<string> => ok(['inspect', '--format', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}', 'rpf']);
  t.is(await settled(state, (s) => s === 'exited 2 3'), 'exited 2 3');
  t.is(await ok(['inspect', '--format', '{{json .HostConfig.RestartPolicy}} {{.State.Restarting}}', 'rpf']), '{"Name":"on-failure","MaximumRetryCount":2} false');
  t.is(await ok(['logs', 'rpf']), 'ran\nran\nran');
  const now = String(Math.ceil(Date.now() / 1000) + 1);
  const actions = await ok(['events', '--since', '0', '--until', now, '--filter', 'container=rpf', '--format', '{{.Action}} {{index .Actor.Attributes "exitCode"}}']);
  t.deepEqual(actions.split('\n').map((l) => l.trim()), ['create', 'start', 'die 3', 'start', 'die 3', 'start', 'die 3']);
  // A success ends an on-failure container's restarts at once.
  await ok(['run', '-d', '--name', 'rpf-ok', '--restart', 'on-failure', '--network', 'none', 'busybox', 'true']);
  t.is(await settled(() => ok(['inspect', '--format', '{{.State.Status}} {{.RestartCount}}', 'rpf-ok']), (s) => s === 'exited 0'), 'exited 0');
});

test("restart policies are refused as dockerd refuses them, with its words and nothing created", async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-rpv');
  const create = (hostConfig: object) => request(daemon.socketPath, 'POST', '/containers/create', { Cmd: ['true'], HostConfig: { NetworkMode: 'none', ...hostConfig } });
  for (const [hostConfig, message] of [
    [{ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }, "maximum retry count cannot be used with restart policy 'always'"],
    [{ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, 'maximum retry count cannot be negative'],
    [{ RestartPolicy: { Name: 'bogus' } }, "invalid restart policy 'bogus'"],
    [{ RestartPolicy: { Name: 'no', MaximumRetryCount: 1 } }, "maximum retry count cannot be used with restart policy 'no'"],
    [{ AutoRemove: true, RestartPolicy: { Name: 'always' } }, "can't create 'AutoRemove' container with restart policy"],
  ] as const) {
    const refused = await create(hostConfig);
    t.is(refused.status, 400, JSON.stringify(hostConfig));
    t.is((JSON.parse(refused.text) as { message: string }).message, message);
  }
  const bad = await docker(['run', '--restart', 'bogus', '--network', 'none', 'busybox', 'true']);
  t.is(bad.code, 125);
  t.regex(bad.stderr, /invalid restart policy 'bogus'/);
  t.is(await ok(['ps', '-aq']), '', 'nothing was created');
  const netctl = netctlCli(daemon.socketPath);
  const conflict = await netctl(['run', '-d', '--rm', '--restart', 'always', '--network', 'none', '--', 'true']);
  t.not(conflict.code, 0);
  t.regex(conflict.stderr, /conflicting options: cannot specify both --restart and --rm/);
  const badCount = await netctl(['create', '--restart', 'on-failure:x', '--network', 'none', '--', 'true']);
  t.not(badCount.code, 0);
  t.regex(badCount.stderr, /maximum retry count must be an integer/);
});

test('--restart always: restarted when its process is killed, not after docker stop or kill; a daemon restart starts it again, unless-stopped only if not stopped', async (t) => {
  // The restarted daemon listens on the same socket.
  const { host, daemon, docker, ok } = await dockerAgainst(t, 'nctl-rpa');
  await ok(['run', '-d', '--name', 'rpa', '--restart', 'always', '--network', 'none', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'rpu', '--restart', 'unless-stopped', '--network', 'none', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'rpd', '--restart', 'unless-stopped', '--network', 'none', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'rpa', 'rpu', 'rpd']).then(() => undefined));
  const state = (name = 'rpa'): Promise<string> => ok(['inspect', '--format', '{{.State.Status}} {{.RestartCount}} {{.State.Pid}}', name]);
  const [, , firstPid] = (await state()).split(' ');

  // Killed behind the daemon's back: the policy starts it again.
  process.kill(Number(firstPid), 'SIGKILL');
  const restarted = await settled(state, (s) => s.startsWith('running 1 ') && !s.endsWith(` ${firstPid}`));
  t.regex(restarted, /^running 1 \d+$/);
  t.not(restarted.split(' ')[2], firstPid);

  // A stop by the user is final until a start, which counts afresh.
  await ok(['stop', '-t', '1', 'rpa']);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.regex(await state(), /^exited 1 0$/, 'no restart after docker stop (the backoff is 200 ms)');
  await ok(['start', 'rpa']);
  t.regex(await state(), /^running 0 \d+$/);
  await ok(['kill', 'rpa']);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.regex(await state(), /^exited 0 0$/, 'nor after docker kill, as dockerd');

  // At the daemon's start, as dockerd: always even after a stop, unless-stopped not after one.
  await ok(['stop', '-t', '1', 'rpu']);
  const [, , downPid] = (await state('rpd')).split(' ');
  await daemon.stop();
  // Its end while no daemon watches is seen at the next start, and restarts it.
  process.kill(Number(downPid), 'SIGKILL');
  await startDaemon(t, { netns: host.path, root: daemon.root, runDir: daemon.runDir });
  t.regex(await state(), /^running 0 \d+$/, 'always: started again by the daemon');
  t.regex(await state('rpu'), /^exited 0 0$/, 'unless-stopped: left stopped');
  t.regex(await settled(() => state('rpd'), (s) => s.startsWith('running 1 ')), /^running 1 \d+$/, 'killed while the daemon was down: restarted');
  // The policy holds on in the new daemon: the process killed again is restarted again.
  const [, , pid] = (await state()).split(' ');
  process.kill(Number(pid), 'SIGKILL');
  t.regex(await settled(state, (s) => s.startsWith('running 1 ')), /^running 1 \d+$/);
});

test('--rm with -d: the daemon removes the container once it has exited (Docker\'s CLI and netctl\'s)', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-rmd');
  const netctl = netctlCli(daemon.socketPath);
  await ok(['run', '-d', '--rm', '--name', 'rmd-docker', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 0.3']);
  const launched = await netctl(['run', '-d', '--rm', '--name', 'rmd-netctl', '--network', 'none', '--', 'sh', '-c', 'sleep 0.3']);
  t.is(launched.code, 0, launched.stderr);
  t.teardown(() => docker(['rm', '-f', 'rmd-docker', 'rmd-netctl']).then(() => undefined));
  const names = (): Promise<string> => ok(['ps', '-a', '--format', '{{.Names}}']);
  t.is(await settled(names, (n) => n === ''), '');
  t.regex((await docker(['inspect', 'rmd-netctl'])).stderr, /No such object: rmd-netctl/);
  // Attached, netctl's CLI removes it once it has the output and the code.
  const attached = await netctl(['run', '--rm', '--network', 'none', '--', 'sh', '-c', 'echo bye; exit 4']);
  t.is(attached.code, 4);
  t.is(attached.stdout, 'bye\n');
  t.is(await names(), '');
});

test('a container waiting out its backoff is restarting (inspect, ps); exec and rm refuse it as dockerd, stop ends the restarts', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-rps');
  await ok(['run', '-d', '--name', 'rps', '--restart', 'always', '--network', 'none', 'busybox', 'sh', '-c', 'exit 1']);
  t.teardown(() => docker(['rm', '-f', 'rps']).then(() => undefined));
  const state = (): Promise<string> => ok(['inspect', '--format', '{{.State.Status}} {{.State.Restarting}} {{.State.Running}} {{.State.ExitCode}}', 'rps']);
  // From the sixth restart on the backoff is 3.2 s and more: long enough to look at.
  const count = (): Promise<number> => ok(['inspect', '--format', '{{.RestartCount}}', 'rps']).then(Number);
  await settled(count, (n) => n >= 6, 30_000);
  t.is(await settled(state, (s) => s.startsWith('restarting')), 'restarting true true 1');
  t.regex(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^rps Restarting \(1\) \d+ seconds? ago$/);
  t.is(await ok(['ps', '-f', 'status=restarting', '--format', '{{.Names}}']), 'rps');
  const id = await ok(['inspect', '--format', '{{.Id}}', 'rps']);
  const exec = await request(daemon.socketPath, 'POST', '/containers/rps/exec', { Cmd: ['true'] });
  t.is(exec.status, 409);
  t.is((JSON.parse(exec.text) as { message: string }).message, `Container ${id} is restarting, wait until the container is running`);
  t.regex((await docker(['rm', 'rps'])).stderr, new RegExp(`You cannot remove a restarting container ${id}\\. Stop the container before attempting removal or force remove`));
  const before = await count();
  await ok(['stop', 'rps']);
  t.is(await state(), 'exited false false 1');
  // Past the backoff the cancelled restart would have waited.
  await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (before - 1) + 1000));
  t.is(await state(), 'exited false false 1', 'no restart after the stop');
  t.is(await count(), before);
});

test('a restart by policy keeps the container on its network with its --ip', async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-rpn');
  await ok(['network', 'create', '--subnet', '10.93.0.0/24', 'rpn-net']);
  t.teardown(() => docker(['network', 'rm', 'rpn-net']).then(() => undefined));
  await ok(['run', '-d', '--name', 'rpn', '--restart', 'always', '--network', 'rpn-net', '--ip', '10.93.0.5', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'rpn-peer', '--network', 'rpn-net', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'rpn', 'rpn-peer']).then(() => undefined));
  const state = (): Promise<string> => ok(['inspect', '--format', '{{.State.Status}} {{.RestartCount}} {{.State.Pid}}', 'rpn']);
  const [, , pid] = (await state()).split(' ');
  process.kill(Number(pid), 'SIGKILL');
  t.regex(await settled(state, (s) => s.startsWith('running 1 ')), /^running 1 \d+$/);
  t.is(await ok(['inspect', '--format', '{{(index .NetworkSettings.Networks "rpn-net").IPAddress}}', 'rpn']), '10.93.0.5');
  t.regex(await ok(['exec', 'rpn', 'ip', '-4', 'addr']), /inet 10\.93\.0\.5\//);
  await ok(['exec', 'rpn-peer', 'ping', '-c', '1', '-W', '5', 'rpn']);
});
