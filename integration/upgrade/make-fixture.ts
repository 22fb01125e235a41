// Makes the store fixture of a release for store-upgrade.test.ts with that release's own daemon
// and CLI. As root, after building this checkout:
//
//   node dist/integration/upgrade/make-fixture.js RELEASE [CHECKOUT]     (RELEASE: e.g. 5cb1193)
//
// CHECKOUT is a built checkout of RELEASE; without it the release is checked out into a temporary
// git worktree and built there (minutes). In a test host of its own the release's daemon gets the
// networks and containers below through its CLI; what its inspect shows is recorded, the daemon is
// stopped and the containers killed (as a reboot would), and the store is written, whole in one
// file, to test/fixtures/stores/release-RELEASE.db with release-RELEASE.json beside it. Nothing is
// left behind.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { netctlCli } from '../helpers/cli';
import { cleanupSandboxDir } from '../helpers/controller-host';
import { ok } from '../helpers/containers';
import { request, startDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';
import { killContainersUnder } from '../helpers/shims';
import { type ContainerInspect, fixtureFiles, type NetworkInspect, type Sidecar } from './fixture';

const REPOSITORY = path.resolve(__dirname, '..', '..', '..');

const NETWORKS: Array<[name: string, flags: string[]]> = [
  ['frontend', ['--subnet', '10.231.0.0/24', '--ip-range', '10.231.0.128/25', '--gateway', '10.231.0.254', '--aux-address', 'router=10.231.0.250', '--attachable', '--label', 'tier=front']],
  ['backend', ['--ipv6', '--subnet', '10.232.0.0/24', '--subnet', 'fd00:232::/64']],
  ['private', ['--internal', '--subnet', '10.234.0.0/24', '-o', 'com.docker.network.bridge.name=nctl-private', '-o', 'com.docker.network.driver.mtu=1400']],
  // No parent: the driver makes a dummy one.
  ['segment', ['-d', 'macvlan', '--internal', '--subnet', '10.235.0.0/24']],
];

interface ContainerPlan {
  name: string;
  runFlags: string[];
  cmd: string[];
  /** Networks connected after the start, with their flags. */
  connect?: Array<[network: string, flags: string[]]>;
  /** How it is left: running, stopped, or created and never started. */
  leave: 'running' | 'stopped' | 'created';
}

const SLEEP = ['sleep', '100000'];
const CONTAINERS: ContainerPlan[] = [
  // Serves its /etc on the published port: /hostname answers web-1.
  { name: 'web', runFlags: ['--network', 'frontend', '--ip', '10.231.0.10', '--network-alias', 'www', '--network-alias', 'site', '--hostname', 'web-1', '-p', '8080:80'], cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], leave: 'running' },
  { name: 'db', runFlags: ['--network', 'backend', '--ip', '10.232.0.20', '--ip6', 'fd00:232::20', '--network-alias', 'database'], cmd: SLEEP, connect: [['frontend', ['--alias', 'db-front']]], leave: 'running' },
  { name: 'vault', runFlags: ['--network', 'private'], cmd: SLEEP, leave: 'running' },
  { name: 'probe', runFlags: ['--network', 'segment', '--ip', '10.235.0.5'], cmd: SLEEP, leave: 'running' },
  { name: 'legacy', runFlags: [], cmd: SLEEP, leave: 'stopped' },
  { name: 'idle', runFlags: ['--network', 'backend'], cmd: SLEEP, leave: 'created' },
];

type Cleanup = Array<() => Promise<void> | void>;

const flagValue = (flags: string[], flag: string): string | undefined => (flags.includes(flag) ? flags[flags.indexOf(flag) + 1] : undefined);

/** A built checkout of `release`: the one given, or a worktree built here and removed at `cleanup`. */
function releaseCheckout(release: string, given: string | undefined, cleanup: Cleanup): string {
  const commit = execFileSync('git', ['-C', REPOSITORY, 'rev-parse', '--verify', `${release}^{commit}`], { encoding: 'utf8' }).trim();
  if (given !== undefined) {
    const head = execFileSync('git', ['-C', given, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    if (head !== commit) throw new Error(`${given} is at ${head}, not at release ${commit}`);
    return path.resolve(given);
  }
  const checkout = fs.mkdtempSync(path.join(os.tmpdir(), `nctl-release-${release}-`));
  cleanup.push(() => fs.rmSync(checkout, { recursive: true, force: true }));
  execFileSync('git', ['-C', REPOSITORY, 'worktree', 'add', '--detach', checkout, commit], { stdio: 'inherit' });
  cleanup.push(() => void execFileSync('git', ['-C', REPOSITORY, 'worktree', 'remove', '--force', checkout], { stdio: 'inherit' }));
  fs.symlinkSync(path.join(REPOSITORY, 'node_modules'), path.join(checkout, 'node_modules'));
  execFileSync('npm', ['run', 'build'], { cwd: checkout, stdio: 'inherit' });
  return checkout;
}

async function main(): Promise<void> {
  const [release, given] = process.argv.slice(2);
  if (release === undefined) throw new Error('usage: node dist/integration/upgrade/make-fixture.js RELEASE [CHECKOUT]');
  const cleanup: Cleanup = [];
  try {
    const cli = path.join(releaseCheckout(release, given, cleanup), 'dist', 'src', 'cli', 'main.js');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-fixture-'));
    const root = path.join(base, 'root');
    const runDir = path.join(base, 'run');
    cleanup.push(() => {
      killContainersUnder(root);
      cleanupSandboxDir(runDir);
      fs.rmSync(base, { recursive: true, force: true });
    });
    const t = { teardown: (fn: () => Promise<void> | void): void => void cleanup.push(fn) };
    const host = createTestNamespace(t, 'nctl-fix');
    host.run('ip', 'link', 'set', 'lo', 'up');
    const daemon = await startDaemon(t, { netns: host.path, root, runDir, cli });
    const netctl = netctlCli(daemon.socketPath, cli);

    for (const [name, flags] of NETWORKS) await ok(netctl, ['network', 'create', ...flags, name]);
    for (const plan of CONTAINERS) {
      if (plan.leave === 'created') {
        // The release's CLI has no `create`.
        const reply = await request(daemon.socketPath, 'POST', `/containers/create?name=${plan.name}`, { Image: 'busybox', Cmd: plan.cmd, HostConfig: { NetworkMode: flagValue(plan.runFlags, '--network') } });
        if (reply.status !== 201) throw new Error(`create ${plan.name}: ${reply.status} ${reply.text}`);
        continue;
      }
      await ok(netctl, ['run', '-d', '--name', plan.name, ...plan.runFlags, '--', ...plan.cmd]);
      for (const [network, flags] of plan.connect ?? []) await ok(netctl, ['network', 'connect', ...flags, network, plan.name]);
      if (plan.leave === 'stopped') await ok(netctl, ['stop', '-t', '1', plan.name]);
    }
    const served = host.run('busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/hostname');
    if (served !== 'web-1\n') throw new Error(`the published port served ${JSON.stringify(served)}`);

    const networkIds = (await ok(netctl, ['network', 'ls', '-q', '--no-trunc'])).trim().split('\n');
    const networks = (JSON.parse(await ok(netctl, ['network', 'inspect', ...networkIds])) as NetworkInspect[]).map(({ Containers: _endpoints, ...network }) => network);
    const containers = JSON.parse(await ok(netctl, ['inspect', ...CONTAINERS.map((c) => c.name)])) as ContainerInspect[];
    // A reboot: the daemon stops, then every container dies without it seeing.
    if ((await daemon.stop()) !== 0) throw new Error(`the release's daemon failed:\n${daemon.logs()}`);
    killContainersUnder(root);

    const files = fixtureFiles(release);
    fs.rmSync(files.store, { force: true });
    const db = new Database(path.join(root, 'store.db'), { readonly: true });
    // One file holding every committed write (the WAL's too), compacted.
    db.prepare('VACUUM INTO ?').run(files.store);
    db.close();
    const copy = new Database(files.store);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    const sidecar: Sidecar = {
      release,
      root,
      networks,
      containers: CONTAINERS.map((plan, i) => {
        const [ipv4, ipv6] = [flagValue(plan.runFlags, '--ip'), flagValue(plan.runFlags, '--ip6')];
        return { static: { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) }, inspect: containers[i]! };
      }),
    };
    fs.writeFileSync(files.sidecar, `${JSON.stringify(sidecar, null, 2)}\n`);
    process.stdout.write(`wrote ${files.store} (${fs.statSync(files.store).size} bytes) and ${files.sidecar}\n`);
  } finally {
    // Every step, even after one failed (the first failure is what the run reports).
    let failure: unknown;
    for (const step of cleanup.reverse()) await Promise.resolve().then(step).catch((error: unknown) => (failure ??= error));
    if (failure !== undefined) throw failure;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`make-fixture: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
