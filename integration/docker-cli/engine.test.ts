// Docker's own CLI against netctl's daemon for the engine itself: `docker info`, images (busybox
// built in, `docker import` of a root file system, `docker run` of it, `docker rmi`) and
// `docker events`; the API's refusals; netctl's own info/images/import/events.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { netctlCli, type Run, runner } from '../helpers/cli';
import { daemonWithCli, ok as netctlOk } from '../helpers/containers';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';

type Context = Parameters<typeof startDaemon>[0];

/** A small root: busybox with sh, echo and cat, and a file that tells it apart from netctl's busybox. */
function makeTarballs(t: Context, marker: string): { tar: string; gz: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-img-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'echo', 'cat', 'sleep']) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  fs.writeFileSync(path.join(root, 'marker'), `${marker}\n`);
  const tar = path.join(dir, 'root.tar');
  const gz = path.join(dir, 'root.tar.gz');
  for (const [file, flags] of [[tar, '-cf'], [gz, '-czf']] as const) {
    if (spawnSync('tar', ['-C', root, flags, file, '.']).status !== 0) throw new Error(`tar ${flags} failed`);
  }
  return { tar, gz };
}

async function setup(t: Context, prefix: string) {
  const host = createTestNamespace(t, prefix);
  const { daemon, netctl } = await daemonWithCli(t, { netns: host.path, args: ['--bridge', 'none'] });
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-dockercfg-'));
  t.teardown(() => fs.rmSync(config, { recursive: true, force: true }));
  const docker = runner(['docker', '-H', `unix://${daemon.socketPath}`], { DOCKER_CONFIG: config }, 30_000);
  const ok = async (args: string[]): Promise<string> => {
    const result = await docker(args);
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout.trim();
  };
  return { host, daemon, netctl, docker, ok };
}

const importedDirs = (daemon: TestDaemon): string[] => fs.readdirSync(path.join(daemon.root, 'images', 'imported')).sort();

test('docker info: counts, drivers, kernel and host facts from a netctl daemon', async (t) => {
  const { daemon, ok } = await setup(t, 'nctl-inf');
  await ok(['run', '-d', '--name', 'inf-up', '--network', 'none', 'busybox', 'sleep', '60']);
  await ok(['create', '--name', 'inf-created', '--network', 'none', 'busybox', 'true']);
  const text = await ok(['info']);
  t.regex(text, /Containers: 2\n\s+Running: 1\n\s+Paused: 0\n\s+Stopped: 1\n\s+Images: 1\n/);
  t.regex(text, /Network: bridge host macvlan null/);
  t.regex(text, new RegExp(`Docker Root Dir: ${daemon.root}`));
  t.regex(text, new RegExp(`Kernel Version: ${os.release().replace(/[.+]/g, '\\$&')}`));
  t.is(await ok(['info', '--format', '{{.ContainersRunning}} {{.OSType}} {{.NCPU}}']), `1 linux ${os.availableParallelism()}`);

  const info = (await request(daemon.socketPath, 'GET', '/v1.41/info')).json<Record<string, unknown>>();
  t.regex(info['ID'] as string, /^[A-Z2-7]{4}(:[A-Z2-7]{4}){11}$/);
  t.like(info, { Containers: 2, ContainersRunning: 1, ContainersStopped: 1, Images: 1, OSType: 'linux', MemTotal: os.totalmem(), Name: os.hostname(), Architecture: os.machine(), Swarm: { LocalNodeState: 'inactive' }, Plugins: { Volume: [] } });
  t.deepEqual((info['Plugins'] as { Network: string[] }).Network, ['bridge', 'host', 'macvlan', 'null']);
  // The ID is the engine's: the same after a restart.
  t.is(fs.readFileSync(path.join(daemon.root, 'engine-id'), 'utf8').trim(), info['ID'] as string);
  await ok(['rm', '-f', 'inf-up', 'inf-created']);
});

test('docker import of a tarball (plain and gzip), docker run of it, docker images and inspect, docker rmi with its conflicts', async (t) => {
  const { daemon, docker, ok } = await setup(t, 'nctl-img');
  const { tar, gz } = makeTarballs(t, 'imported-root');
  t.deepEqual((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n'), ['busybox:latest']);

  const id = await ok(['import', tar, 'eng/app:v1']);
  t.regex(id, /^sha256:[0-9a-f]{64}$/);
  t.is(await ok(['image', 'inspect', '--format', '{{.Id}} {{json .RepoTags}} {{.Os}}', 'eng/app:v1']), `${id} ["eng/app:v1"] linux`);
  const gzId = await ok(['import', '--message', 'gzipped', gz, 'eng/gz']);
  t.is(await ok(['image', 'inspect', '--format', '{{.Comment}}', 'eng/gz']), 'gzipped');
  t.deepEqual((await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).split('\n').sort(), [`busybox:latest ${(await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).slice(7, 19)}`, `eng/app:v1 ${id.slice(7, 19)}`, `eng/gz:latest ${gzId.slice(7, 19)}`].sort());
  t.is(await ok(['images', '-q', 'eng/app']), id.slice(7, 19));

  // The container runs in the imported root, not in busybox's.
  t.is(await ok(['run', '--rm', '--network', 'none', 'eng/app:v1', 'cat', '/marker']), 'imported-root');
  t.is(await ok(['run', '--rm', '--network', 'none', 'eng/gz', 'cat', '/marker']), 'imported-root');
  t.not((await docker(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/marker'])).code, 0);
  await ok(['create', '--name', 'img-user', '--network', 'none', 'eng/app:v1', 'true']);
  t.is(await ok(['inspect', '--format', '{{.Image}} {{.Config.Image}}', 'img-user']), `${id} eng/app:v1`);
  t.is(await ok(['ps', '-a', '--format', '{{.Names}}', '-f', 'ancestor=eng/app:v1']), 'img-user');

  // In use: refused, with force too (netctl's containers run in the image's files).
  const inUse = await docker(['rmi', 'eng/app:v1']);
  t.is(inUse.code, 1);
  t.regex(inUse.stderr, /conflict: unable to remove repository reference "eng\/app:v1" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
  const forced = await docker(['rmi', '-f', 'eng/app:v1']);
  t.is(forced.code, 1);
  t.regex(forced.stderr, /\(cannot be forced\) - image is being used by container/);
  const builtIn = await request(daemon.socketPath, 'DELETE', '/images/busybox');
  t.is(builtIn.status, 409);
  t.regex(builtIn.text, /busybox:latest is netctl's built-in image/);

  await ok(['rm', 'img-user']);
  t.is(await ok(['rmi', 'eng/app:v1']), `Untagged: eng/app:v1\nDeleted: ${id}`);
  t.is(await ok(['rmi', gzId.slice(7, 19)]), `Untagged: eng/gz:latest\nDeleted: ${gzId}`);
  t.deepEqual(importedDirs(daemon), [], 'the image directories are gone');
  const gone = await docker(['image', 'inspect', 'eng/app:v1']);
  t.regex(gone.stderr, /No such image: eng\/app:v1/);
});

test('a second import under the same name takes the tag; the first stays as a dangling image', async (t) => {
  const { ok } = await setup(t, 'nctl-tag');
  const { tar } = makeTarballs(t, 'x');
  const first = await ok(['import', tar, 'dup:1']);
  const second = await ok(['import', tar, 'dup:1']);
  t.not(first, second);
  t.is(await ok(['image', 'inspect', '-f', '{{.Id}}', 'dup:1']), second);
  t.is(await ok(['images', '-q', '-f', 'dangling=true', '--no-trunc']), first);
  t.is(await ok(['rmi', first.slice(7)]), `Deleted: ${first}`);
});

test('docker image prune removes dangling images; -a every image no container uses; busybox and images in use stay', async (t) => {
  const { ok } = await setup(t, 'nctl-iprn');
  const { tar } = makeTarballs(t, 'p');
  const dangling = await ok(['import', tar, 'prn:1']);
  const tagged = await ok(['import', tar, 'prn:1']);
  const used = await ok(['import', tar, 'prn-used']);
  await ok(['create', '--network', 'none', 'prn-used', 'true']);
  const pruned = await ok(['image', 'prune', '-f']);
  t.regex(pruned, new RegExp(`deleted: ${dangling}`));
  t.notRegex(pruned, new RegExp(tagged));
  t.regex(pruned, /Total reclaimed space: [1-9]/);
  t.is(await ok(['images', '-q', '--no-trunc', '-f', 'dangling=true']), '');
  const all = await ok(['image', 'prune', '-a', '-f']);
  t.regex(all, new RegExp(`untagged: prn:1[\\s\\S]*deleted: ${tagged}`));
  t.deepEqual((await ok(['images', '--format', '{{.Repository}}'])).split('\n').sort(), ['busybox', 'prn-used']);
  t.is(await ok(['image', 'inspect', '-f', '{{.Id}}', 'prn-used']), used);
  t.is(await ok(['image', 'prune', '-a', '-f']), 'Total reclaimed space: 0B');
  // docker system prune: containers, networks, images and the (always empty) build cache.
  await ok(['rm', '-f', ...(await ok(['ps', '-aq'])).split('\n')]);
  t.regex(await ok(['system', 'prune', '-a', '-f']), /untagged: prn-used:latest/);
  t.is(await ok(['images', '--format', '{{.Repository}}']), 'busybox');
});

test("image API refusals: Docker's statuses and messages, and nothing left behind", async (t) => {
  const { daemon, docker } = await setup(t, 'nctl-ie');
  const post = (query: string, body: string): ReturnType<typeof request> => request(daemon.socketPath, 'POST', `/v1.41/images/create?${query}`, body);
  const expect = async (reply: ReturnType<typeof request>, status: number, message: RegExp): Promise<void> => {
    const { status: got, text } = await reply;
    t.is(got, status, text);
    t.regex((JSON.parse(text) as { message: string }).message, message);
  };
  await expect(post('fromSrc=-&repo=bad', 'not a tarball'), 400, /the request body is not a tarball netctl can extract \(tar: .*\): give a root file system as a tar archive/);
  await expect(post('fromSrc=-&repo=UPPER', ''), 400, /^invalid reference format: repository name must be lowercase$/);
  await expect(post('fromSrc=-&repo=a:b:c', ''), 400, /^invalid reference format$/);
  await expect(post('fromSrc=-&repo=busybox', ''), 409, /busybox:latest is netctl's built-in image: import under another name or tag/);
  await expect(post('fromImage=alpine&tag=latest', ''), 501, /pulling images is not supported: netctl has no registry client/);
  await expect(post('fromSrc=http://example.com/x.tar', ''), 501, /send the tarball as the body with fromSrc=-/);
  await expect(post('fromSrc=-&changes=CMD%20sh', ''), 400, /changes are not supported/);
  await expect(request(daemon.socketPath, 'POST', '/containers/create', { Image: 'nope', Cmd: ['true'] }), 404, /^No such image: nope:latest$/);
  await expect(request(daemon.socketPath, 'GET', '/images/nope/json'), 404, /^No such image: nope:latest$/);
  await expect(request(daemon.socketPath, 'DELETE', '/images/nope'), 404, /^No such image: nope:latest$/);
  await expect(request(daemon.socketPath, 'GET', `/images/json?filters=${encodeURIComponent('{"x":["1"]}')}`), 400, /Invalid filter 'x'/);
  t.deepEqual(importedDirs(daemon), [], 'a failed import leaves no directory');
  // docker run of an unknown image: the CLI tries a pull and shows why there is none.
  const run = await docker(['run', '--rm', '--network', 'none', 'nope', 'true']);
  t.is(run.code, 125);
  t.regex(run.stderr, /pulling images is not supported/);
  t.is((await request(daemon.socketPath, 'GET', '/containers/json?all=1')).text.trim(), '[]', 'nothing was created');
});

/** tar processes extracting under `root`. */
const tarsUnder = (root: string): number[] =>
  fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0] === 'tar' && argv.some((a) => a.startsWith(root));
    } catch {
      return false;
    }
  }).map(Number);

test('an upload cut short leaves no tar running and no scratch directory; the daemon serves on', async (t) => {
  const { daemon, ok } = await setup(t, 'nctl-icut');
  const { tar } = makeTarballs(t, 'x');
  const head = fs.readFileSync(tar).subarray(0, 64 * 1024);
  const socket = net.connect(daemon.socketPath);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`POST /v1.41/images/create?fromSrc=-&repo=cut HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: ${10 * head.length}\r\n\r\n`);
  socket.write(head);
  // Until tar is extracting this upload, then the client leaves.
  for (let i = 0; i < 100 && tarsUnder(daemon.root).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(tarsUnder(daemon.root).length, 1, 'tar is extracting the upload');
  socket.destroy();
  for (let i = 0; i < 100 && (tarsUnder(daemon.root).length > 0 || importedDirs(daemon).length > 0); i++) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(tarsUnder(daemon.root), [], 'no tar left running');
  t.deepEqual(importedDirs(daemon), [], 'no scratch directory left');
  t.is(await ok(['images', '-q', 'cut']), '');
});

test('an imported image outlives a daemon restart', async (t) => {
  const host = createTestNamespace(t, 'nctl-irs');
  const daemon = await startDaemon(t, { netns: host.path, args: ['--bridge', 'none'] });
  const { tar } = makeTarballs(t, 'kept');
  const netctl = netctlCli(daemon.socketPath);
  const id = (await netctlOk(netctl, ['import', tar, 'kept:1'])).trim();
  await daemon.stop();
  const again = await startDaemon(t, { netns: host.path, args: ['--bridge', 'none'], root: daemon.root, runDir: daemon.runDir });
  const after = netctlCli(again.socketPath);
  t.is((await netctlOk(after, ['images', '-q', '--no-trunc', 'kept:1'])).trim(), id);
  t.is((await netctlOk(after, ['run', '--rm', '--network', 'none', '--image', 'kept:1', 'cat', '/marker'])).trim(), 'kept');
});

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

test('docker events --since/--until: the network and container lifecycle in order, filtered by type, event and container', async (t) => {
  const { daemon, ok } = await setup(t, 'nctl-ev');
  const since = String(Date.now() / 1000);
  await ok(['network', 'create', 'ev-net']);
  await ok(['run', '-d', '--name', 'ev-c', '--label', 'tier=web', '--network', 'ev-net', 'busybox', 'sleep', '60']);
  await ok(['network', 'disconnect', 'ev-net', 'ev-c']);
  await ok(['stop', '-t', '0', 'ev-c']);
  await ok(['rm', 'ev-c']);
  await ok(['network', 'rm', 'ev-net']);
  const until = String(Date.now() / 1000 + 0.5);
  const events = async (...args: string[]): Promise<string[]> => lines(await ok(['events', '--since', since, '--until', until, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}', ...args]));

  t.deepEqual(await events(), [
    'network create ev-net',
    // The start joins the network, as with dockerd.
    'container create ev-c',
    'network connect ev-net',
    'container start ev-c',
    'network disconnect ev-net',
    // SIGTERM, which sleep as the container's first process ignores, then SIGKILL at once: as dockerd.
    'container kill ev-c',
    'container kill ev-c',
    'container die ev-c',
    'container stop ev-c',
    'container destroy ev-c',
    'network destroy ev-net',
  ]);
  t.deepEqual(await events('-f', 'type=network', '-f', 'event=destroy'), ['network destroy ev-net']);
  t.deepEqual(await events('-f', 'container=ev-c', '-f', 'event=die'), ['container die ev-c']);
  t.deepEqual(lines(await ok(['events', '--since', since, '--until', until, '-f', 'event=kill', '--format', '{{.Actor.Attributes.signal}}'])), ['15', '9']);
  t.deepEqual(await events('-f', 'label=tier=web', '-f', 'event=start'), ['container start ev-c']);
  t.deepEqual(await events('-f', 'network=ev-net', '-f', 'event=connect'), ['network connect ev-net']);
  const die = JSON.parse(await ok(['events', '--since', since, '--until', until, '-f', 'event=die', '--format', '{{json .}}'])) as Record<string, unknown>;
  t.like(die, { Type: 'container', Action: 'die', status: 'die', from: 'busybox', scope: 'local', Actor: { Attributes: { name: 'ev-c', image: 'busybox', exitCode: '137', tier: 'web' } } });
  const connect = (await request(daemon.socketPath, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent('{"event":["connect"]}')}`)).json<{ Actor: { Attributes: { container: string } } }>();
  t.regex(connect.Actor.Attributes.container, /^[0-9a-f]{64}$/);
});

test('docker events streams what happens while it runs, and ends at --until', async (t) => {
  const { daemon, ok } = await setup(t, 'nctl-evl');
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-dockercfg-'));
  t.teardown(() => fs.rmSync(config, { recursive: true, force: true }));
  const until = String(Math.ceil(Date.now() / 1000) + 8);
  const child = spawn('docker', ['-H', `unix://${daemon.socketPath}`, 'events', '--until', until, '-f', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], { env: { ...process.env, DOCKER_CONFIG: config } });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  // Subscribed once the daemon counts a listener.
  for (let i = 0; i < 100 && (await request(daemon.socketPath, 'GET', '/info')).json<{ NEventsListener: number }>().NEventsListener === 0; i++) await new Promise((r) => setTimeout(r, 100));
  await ok(['network', 'create', 'evl-net']);
  await ok(['network', 'rm', 'evl-net']);
  for (let i = 0; i < 100 && !out.includes('destroy evl-net'); i++) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(lines(out), ['create evl-net', 'destroy evl-net']);
  t.is(await exited, 0, 'the stream ended at --until');

  // A stream without --until ends when its client leaves, and the daemon drops the subscription.
  const listeners = async (): Promise<number> => (await request(daemon.socketPath, 'GET', '/info')).json<{ NEventsListener: number }>().NEventsListener;
  const endless = spawn('docker', ['-H', `unix://${daemon.socketPath}`, 'events'], { env: { ...process.env, DOCKER_CONFIG: config } });
  t.teardown(() => void endless.kill('SIGKILL'));
  for (let i = 0; i < 100 && (await listeners()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.is(await listeners(), 1);
  endless.kill('SIGKILL');
  for (let i = 0; i < 100 && (await listeners()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.is(await listeners(), 0);
});

test("GET /events refusals: bad times, since after until, unknown filters (400)", async (t) => {
  const { daemon } = await setup(t, 'nctl-eve');
  for (const [query, message] of [
    ['since=abc', /invalid value "abc" for since/],
    ['since=10&until=5', /^`since` time \(10\) cannot be after `until` time \(5\)$/],
    [`filters=${encodeURIComponent('{"x":["1"]}')}`, /Invalid filter 'x'/],
    [`filters=${encodeURIComponent('{"type":["bogus"]}')}`, /Invalid filter 'type=bogus'/],
  ] as const) {
    const reply = await request(daemon.socketPath, 'GET', `/events?${query}`);
    t.is(reply.status, 400, query);
    t.regex(reply.json<{ message: string }>().message, message);
  }
});

test('netctl info, images, import, events and run --image', async (t) => {
  const host = createTestNamespace(t, 'nctl-eci');
  const { netctl } = await daemonWithCli(t, { netns: host.path, args: ['--bridge', 'none'] });
  const { tar } = makeTarballs(t, 'from-netctl');
  const since = String(Date.now() / 1000);
  const id = (await netctlOk(netctl, ['import', tar, 'cli/app:2'])).trim();
  t.regex(id, /^sha256:[0-9a-f]{64}$/);
  const images = lines(await netctlOk(netctl, ['images']));
  t.regex(images[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  t.true(images.some((l) => new RegExp(`^cli/app\\s+2\\s+${id.slice(7, 19)}\\s+.*ago\\s+\\d`).test(l)), images.join('\n'));
  t.is((await netctlOk(netctl, ['run', '--rm', '--network', 'none', '--image', 'cli/app:2', 'cat', '/marker'])).trim(), 'from-netctl');
  const refused: Run = await netctl(['run', '--network', 'none', '--image', 'nope', 'true']);
  t.is(refused.code, 125);
  t.regex(refused.stderr, /No such image: nope:latest/);
  t.regex(await netctlOk(netctl, ['info']), /Containers: 0\n Running: 0\n Paused: 0\n Stopped: 0\nImages: 2\n/);
  t.is((await netctlOk(netctl, ['info', '-f', '{{.Images}}'])).trim(), '2');
  const events = lines(await netctlOk(netctl, ['events', '--since', since, '--until', '0s', '-f', 'type=image']));
  t.deepEqual(events.map((l) => l.split(' ').slice(1, 3).join(' ')), ['image tag', 'image import']);
  t.regex(events[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z image tag sha256:[0-9a-f]{64} \(name=cli\/app:2\)$/);
  const started = lines(await netctlOk(netctl, ['events', '--since', since, '--until', '0s', '--format', '{{.Action}}', '-f', 'type=container']));
  t.deepEqual(started, ['create', 'start', 'die', 'destroy']);
});

test('docker-compose 1.29 brings a busybox project up, finds it up to date (its Image is the image ID) and down', async (t) => {
  const { daemon } = await setup(t, 'nctl-cmp');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-compose-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), 'version: "3.7"\nservices:\n  web:\n    image: busybox\n    command: ["sleep", "60"]\n');
  const compose = runner(['docker-compose', '--project-directory', dir, '-f', path.join(dir, 'docker-compose.yml'), '-p', 'cmp'], { DOCKER_HOST: `unix://${daemon.socketPath}`, DOCKER_CONFIG: dir }, 60_000);
  const run = async (...args: string[]): Promise<string> => {
    const result = await compose(args);
    t.is(result.code, 0, `docker-compose ${args.join(' ')}: ${result.stderr}`);
    return result.stdout + result.stderr;
  };
  t.teardown(() => compose(['down']).then(() => undefined));
  t.regex(await run('up', '-d'), /Creating cmp_web_1 \.\.\. done/);
  t.regex(await run('up', '-d'), /cmp_web_1 is up-to-date/);
  t.regex(await run('ps'), /cmp_web_1\s+sleep 60\s+Up/);
  t.regex(await run('down'), /Removing network cmp_default/);
  t.is((await request(daemon.socketPath, 'GET', '/containers/json?all=1')).text.trim(), '[]');
});

test('docker create without --name: a random adjective_surname name, different each time, that names the container', async (t) => {
  const { ok } = await setup(t, 'nctl-rnm');
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    const id = await ok(['create', '--network', 'none', 'busybox', 'true']);
    names.push(await ok(['inspect', '--format', '{{.Name}}', id]));
  }
  for (const name of names) t.regex(name, /^\/[a-z]+_[a-z]+\d?$/);
  t.is(new Set(names).size, 3);
  const name = names[0]!.slice(1);
  await ok(['start', name]);
  t.is(await ok(['wait', name]), '0');
  t.is(await ok(['ps', '-a', '--filter', `name=^/${name}$`, '--format', '{{.Names}}']), name);
  await ok(['rm', ...names.map((n) => n.slice(1))]);
});

test('netctl create prints the ID of a created container that netctl start runs; a refusal exits 125', async (t) => {
  const { netctl, ok } = await setup(t, 'nctl-crt');
  const created = await netctl(['create', '--name', 'later', '--network', 'none', '--', 'sh', '-c', 'echo ran']);
  t.is(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  t.teardown(async () => void (await netctl(['rm', '-f', id])));
  t.is(await ok(['inspect', '--format', '{{.State.Status}}', 'later']), 'created');
  await netctlOk(netctl, ['start', 'later']);
  t.is(await ok(['wait', 'later']), '0');
  t.is(await ok(['logs', 'later']), 'ran');
  const taken = await netctl(['create', '--name', 'later', '--network', 'none', 'true']);
  t.is(taken.code, 125);
  t.regex(taken.stderr, /Error response from daemon: .*later/);
});
