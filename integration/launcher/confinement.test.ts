// Containers confined as Docker confines them, checked from inside against the kernel: the
// capability sets of pid 1 and of exec'd processes, the seccomp filter (a probe makes each system
// call Docker's default profile refuses; its answers are compared with dockerd 20.10's), masked and
// read-only paths, /dev, pivot_root, --cap-add/--cap-drop/--privileged/--security-opt, symlinks
// planted where the shim mounts /etc files, overlay paths with separators, exec's argument and
// environment handling, and the refusals of bad input.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBusyboxRoot } from '../../src/launcher/rootfs';
import { type Runner } from '../helpers/cli';
import { daemonWithCli, inspect, ok } from '../helpers/containers';
import { request, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';

const PROBE_SOURCE = path.resolve(__dirname, '..', '..', '..', 'integration', 'launcher', 'fixtures', 'syscall-probe.c');
/** Docker's default capability set (dockerd 20.10: CapEff 00000000a80425fb). */
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';
/** What dockerd 20.10's default profile lets through of the probe's calls; it refused all others with EPERM. */
const DOCKER_DEFAULT_ANSWERS: Record<string, string> = { ptrace: 'ok', chroot: 'ENOENT', 'personality(query)': 'ok', 'personality(PER_LINUX32)': 'ok', clone: 'ok', clone3: 'ENOSYS' };
/** Refused by Docker's profile whatever the capabilities. */
const ALWAYS_REFUSED = ['pivot_root', 'kexec_load', 'kexec_file_load', 'keyctl', 'add_key', 'request_key', 'swapon', 'swapoff', 'nfsservctl', 'userfaultfd'];
/** Allowed by Docker's profile once CAP_SYS_ADMIN is held (dockerd 20.10 with --cap-add SYS_ADMIN). */
const SYS_ADMIN_ALLOWS = ['mount', 'umount2', 'unshare', 'setns', 'name_to_handle_at', 'perf_event_open', 'lookup_dcookie', 'quotactl', 'clone(CLONE_NEWUSER)', 'clone3', 'open_tree', 'fsopen'];

async function setup(t: Parameters<typeof daemonWithCli>[0] & Parameters<typeof createTestNamespace>[0]): Promise<{ daemon: TestDaemon; netctl: Runner }> {
  const ns = createTestNamespace(t, 'nctl-conf');
  return daemonWithCli(t, { netns: ns.path, args: ['--bridge', 'none'] });
}

function scratch(t: { teardown(fn: () => void): void }, name = 'nctl-conf-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), name));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A busybox root holding the syscall probe (compiled static) as /bin/syscall-probe. */
function probeRoot(t: { teardown(fn: () => void): void }): string {
  const rootfs = ensureBusyboxRoot(scratch(t));
  execFileSync('cc', ['-static', '-O1', '-o', path.join(rootfs, 'bin', 'syscall-probe'), PROBE_SOURCE]);
  return rootfs;
}

/** The probe's lines as {call: answer}. */
const answers = (output: string): Record<string, string> => Object.fromEntries(output.trim().split('\n').map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));

/** The Cap* lines of a /proc/PID/status, as {CapEff: hex, ...}. */
async function capabilities(netctl: Runner, container: string, pid: 'self' | '1'): Promise<Record<string, string>> {
  const lines = (await ok(netctl, ['exec', container, 'grep', '-E', '^(Cap|NoNewPrivs|Seccomp:)', `/proc/${pid}/status`])).trim().split('\n');
  return Object.fromEntries(lines.map((line) => line.split(/:\s+/) as [string, string]));
}

test('default: Docker\'s capabilities for pid 1 and exec, its seccomp refusals, masked and read-only paths, a minimal /dev, no way back to the host\'s root', async (t) => {
  const { daemon, netctl } = await setup(t);
  const rootfs = probeRoot(t);
  await ok(netctl, ['run', '-d', '--name', 'c', '--network', 'none', '--rootfs', rootfs, 'sleep', '300']);
  const docker = { CapInh: '0000000000000000', CapPrm: DOCKER_DEFAULT_CAPS, CapEff: DOCKER_DEFAULT_CAPS, CapBnd: DOCKER_DEFAULT_CAPS, CapAmb: '0000000000000000', NoNewPrivs: '0', Seccomp: '2' };
  t.deepEqual(await capabilities(netctl, 'c', '1'), docker, 'pid 1');
  t.deepEqual(await capabilities(netctl, 'c', 'self'), docker, 'an exec\'d process');

  // The start built the filter and kept it; this exec loads the kept one.
  const cache = path.join(daemon.root, 'seccomp');
  t.is(fs.statSync(cache).mode & 0o777, 0o700, 'the filter cache is root\'s alone');
  t.deepEqual(fs.readdirSync(cache).map((file) => file.split('-')[0]), ['a80425fb']);
  const probe = answers(await ok(netctl, ['exec', 'c', 'syscall-probe']));
  t.true(Object.keys(probe).length > 40);
  for (const [call, answer] of Object.entries(probe)) t.is(answer, DOCKER_DEFAULT_ANSWERS[call] ?? 'EPERM', call);
  const mount = await netctl(['exec', 'c', 'mount', '-t', 'tmpfs', 'x', '/tmp']);
  t.not(mount.code, 0);
  t.regex(mount.stderr, /permission denied/i);
  const unshare = await netctl(['exec', 'c', 'unshare', '-n', 'true']);
  t.not(unshare.code, 0);
  t.regex(unshare.stderr, /Operation not permitted/);

  // Masked: the files this kernel has read as /dev/null, the directories as an empty read-only tmpfs.
  const mounts = await ok(netctl, ['exec', 'c', 'cat', '/proc/1/mountinfo']);
  const mountAt = (target: string): string | undefined => mounts.split('\n').find((line) => line.split(' ')[4] === target);
  for (const masked of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']) {
    if (!fs.existsSync(masked)) continue;
    t.truthy(mountAt(masked), `${masked} is covered`);
    if (fs.statSync(masked).isDirectory()) t.is(await ok(netctl, ['exec', 'c', 'ls', '-A', masked]), '', `${masked} is empty`);
    else t.is(await ok(netctl, ['exec', 'c', 'cat', masked]), '', `${masked} reads nothing`);
  }
  t.not(fs.readdirSync('/sys/firmware').length, 0, 'the host\'s /sys/firmware has entries the container does not see');
  for (const readOnly of ['/proc/sys', '/proc/bus', '/proc/fs', '/proc/irq']) if (fs.existsSync(readOnly)) t.regex(mountAt(readOnly) ?? '', /^\S+ \S+ \S+ \S+ \S+ ro,/, `${readOnly} read-only`);
  const hostname = await netctl(['exec', 'c', 'sh', '-c', 'echo other > /proc/sys/kernel/hostname']);
  t.regex(hostname.stderr, /Read-only file system/);
  t.regex(mountAt('/sys') ?? '', / ro,/, '/sys read-only');

  t.is(await ok(netctl, ['exec', 'c', 'ls', '/proc/1/fd']), '0\n1\n2\n', 'pid 1 holds stdio and nothing of the host\'s');
  for (const pid of ['1', 'self']) t.regex((await netctl(['exec', 'c', 'chmod', '666', `/proc/${pid}/fd/0`])).stderr, /Read-only file system/, `stdin of ${pid} is the container's /dev/null`);
  t.is(await ok(netctl, ['exec', 'c', 'ls', '/dev']), 'fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n');
  t.is(await ok(netctl, ['exec', 'c', 'ls', '/dev/pts']), 'ptmx\n', 'a devpts of its own');
  t.is(await ok(netctl, ['exec', 'c', 'readlink', '/dev/ptmx']), 'pts/ptmx\n');
  t.is(await ok(netctl, ['exec', 'c', 'sh', '-c', 'head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo written']), '4\nwritten\n');
  t.regex((await netctl(['exec', 'c', 'chmod', '600', '/dev/null'])).stderr, /Read-only file system/, "the host's /dev/null keeps its mode");
  // CAP_MKNOD makes nodes, as in Docker; without a device cgroup, nodev keeps them dead.
  for (const where of ['/tmp', '/dev']) {
    const made = await netctl(['exec', 'c', 'sh', '-c', `mknod ${where}/disk c 1 3 && echo made && echo x > ${where}/disk`]);
    t.regex(made.stdout, /made/);
    t.regex(made.stderr, /Permission denied/, `a node made in ${where} cannot be opened`);
  }

  t.is(await ok(netctl, ['exec', 'c', 'syscall-probe', 'escape', daemon.root]), `${daemon.root} unreachable\n`, 'chroot and ".." lead nowhere beyond the container\'s root');
});

test('--cap-add and --cap-drop: NET_ADMIN makes links, ALL drops all, SYS_ADMIN opens what Docker\'s profile opens with it; unknown names refused', async (t) => {
  const { daemon, netctl } = await setup(t);
  const rootfs = probeRoot(t);
  // This kernel has no dummy links: a bridge needs CAP_NET_ADMIN alike.
  const addLink = ['ip', 'link', 'add', 'b0', 'type', 'bridge'];
  await ok(netctl, ['run', '-d', '--name', 'plain', '--network', 'none', 'sleep', '300']);
  const refused = await netctl(['exec', 'plain', ...addLink]);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /Operation not permitted/);

  await ok(netctl, ['run', '-d', '--name', 'admin', '--network', 'none', '--cap-add', 'net_admin', 'sleep', '300']);
  await ok(netctl, ['exec', 'admin', ...addLink]);
  t.regex(await ok(netctl, ['exec', 'admin', 'ip', 'link', 'show', 'b0']), /b0:/);
  t.is((await capabilities(netctl, 'admin', '1'))['CapEff'], '00000000a80435fb');
  t.is((await capabilities(netctl, 'admin', 'self'))['CapEff'], '00000000a80435fb');

  await ok(netctl, ['run', '-d', '--name', 'none', '--network', 'none', '--cap-drop', 'ALL', 'sleep', '300']);
  const dropped = await capabilities(netctl, 'none', '1');
  t.like(dropped, { CapPrm: '0000000000000000', CapEff: '0000000000000000', CapBnd: '0000000000000000' });
  await ok(netctl, ['run', '-d', '--name', 'chown-only', '--network', 'none', '--cap-drop', 'all', '--cap-add', 'CAP_CHOWN', 'sleep', '300']);
  t.is((await capabilities(netctl, 'chown-only', 'self'))['CapEff'], '0000000000000001');
  await ok(netctl, ['run', '-d', '--name', 'noraw', '--network', 'none', '--cap-drop', 'NET_RAW', 'sleep', '300']);
  t.regex((await netctl(['exec', 'noraw', 'ping', '-c', '1', '127.0.0.1'])).stderr, /permission denied|not permitted/i, 'ping needs NET_RAW');

  await ok(netctl, ['run', '-d', '--name', 'sysadmin', '--network', 'none', '--rootfs', rootfs, '--cap-add', 'SYS_ADMIN', 'sleep', '300']);
  const probe = answers(await ok(netctl, ['exec', 'sysadmin', 'syscall-probe']));
  for (const call of SYS_ADMIN_ALLOWS) t.not(probe[call], 'EPERM', `${call} with SYS_ADMIN`);
  for (const call of ALWAYS_REFUSED) t.is(probe[call], 'EPERM', `${call} even with SYS_ADMIN`);

  const info = (await request(daemon.socketPath, 'GET', '/containers/chown-only/json')).json<{ HostConfig: Record<string, unknown> }>();
  t.like(info.HostConfig, { CapAdd: ['CAP_CHOWN'], CapDrop: ['ALL'], Privileged: false, SecurityOpt: null });
  t.like((await request(daemon.socketPath, 'GET', '/containers/plain/json')).json<{ HostConfig: Record<string, unknown> }>().HostConfig, { CapAdd: null, CapDrop: null });

  for (const [field, name] of [['CapAdd', 'NOPE'], ['CapDrop', 'cap_nope']] as const) {
    const reply = await request(daemon.socketPath, 'POST', '/containers/create', { Cmd: ['true'], HostConfig: { NetworkMode: 'none', [field]: [name] } });
    t.is(reply.status, 400);
    t.regex(reply.json<{ message: string }>().message, new RegExp(`^invalid ${field}: unknown capability: "CAP_NOPE"`));
  }
  const cli = await netctl(['run', '--network', 'none', '--cap-add', 'FLY', 'true']);
  t.is(cli.code, 125);
  t.regex(cli.stderr, /unknown capability: "CAP_FLY"/);
});

test('--privileged: every capability the daemon holds, no seccomp, nothing masked, /sys writable, the host\'s devices', async (t) => {
  const { netctl } = await setup(t);
  await ok(netctl, ['run', '-d', '--name', 'p', '--network', 'none', '--privileged', 'sleep', '300']);
  const held = /^CapBnd:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
  t.like(await capabilities(netctl, 'p', '1'), { CapEff: held, CapBnd: held, Seccomp: '0' });
  t.like(await capabilities(netctl, 'p', 'self'), { CapEff: held, Seccomp: '0' });
  await ok(netctl, ['exec', 'p', 'mount', '-t', 'tmpfs', 'x', '/tmp']);
  const mounts = await ok(netctl, ['exec', 'p', 'cat', '/proc/1/mountinfo']);
  t.notRegex(mounts, / \/proc\/(keys|sys) /, 'nothing masked or made read-only');
  t.regex(mounts, / \/sys rw,/);
  const devices = new Set((await ok(netctl, ['exec', 'p', 'ls', '/dev'])).trim().split('\n'));
  const hostDevices = fs.readdirSync('/dev').filter((name) => !['pts', 'shm', 'mqueue', 'ptmx'].includes(name) && /^[bc]/.test(execFileSync('stat', ['-c', '%A', `/dev/${name}`], { encoding: 'utf8' })));
  t.true(hostDevices.length > 6);
  t.deepEqual(hostDevices.filter((name) => !devices.has(name)), [], "every device node of the host's /dev");
});

test('--security-opt no-new-privileges sets NoNewPrivs for pid 1 and exec; options netctl does not implement, bad hostnames and DNS settings are refused with 400', async (t) => {
  const { daemon, netctl } = await setup(t);
  await ok(netctl, ['run', '-d', '--name', 'nnp', '--network', 'none', '--security-opt', 'no-new-privileges', 'sleep', '300']);
  t.like(await capabilities(netctl, 'nnp', '1'), { NoNewPrivs: '1', CapEff: DOCKER_DEFAULT_CAPS, Seccomp: '2' });
  t.like(await capabilities(netctl, 'nnp', 'self'), { NoNewPrivs: '1' });
  await ok(netctl, ['run', '-d', '--name', 'nnp-false', '--network', 'none', '--security-opt', 'no-new-privileges:false', 'sleep', '300']);
  t.like(await capabilities(netctl, 'nnp-false', '1'), { NoNewPrivs: '0' });
  t.like((await request(daemon.socketPath, 'GET', '/containers/nnp/json')).json<{ HostConfig: Record<string, unknown> }>().HostConfig, { SecurityOpt: ['no-new-privileges'] });

  const refusals: Array<[Record<string, unknown>, RegExp]> = [
    [{ HostConfig: { SecurityOpt: ['seccomp=unconfined'] } }, /^security option "seccomp=unconfined" is not supported: netctl takes only no-new-privileges/],
    [{ HostConfig: { SecurityOpt: ['apparmor=docker-default'] } }, /^security option "apparmor=docker-default" is not supported/],
    [{ HostConfig: { SecurityOpt: ['no-new-privileges:maybe'] } }, /not supported/],
    [{ Hostname: 'web\n10.0.0.1 bank.example' }, /^invalid hostname "web\\n10\.0\.0\.1 bank\.example": use letters, digits and hyphens \(RFC 1123\)/],
    [{ Hostname: 'under_score' }, /^invalid hostname/],
    [{ Hostname: `${'a'.repeat(64)}.b` }, /^invalid hostname/],
    [{ HostConfig: { DnsSearch: ['a.example\nnameserver 192.0.2.66'] } }, /^invalid DNS search domain/],
    [{ HostConfig: { DnsSearch: ['-bad.example'] } }, /^invalid DNS search domain "-bad\.example"/],
    [{ HostConfig: { DnsOptions: ['ndots:1\nnameserver 192.0.2.66'] } }, /^invalid DNS option/],
  ];
  for (const [body, message] of refusals) {
    const hostConfig = { NetworkMode: 'none', ...((body['HostConfig'] as object | undefined) ?? {}) };
    const reply = await request(daemon.socketPath, 'POST', '/containers/create', { Cmd: ['true'], ...body, HostConfig: hostConfig });
    t.is(reply.status, 400, JSON.stringify(body));
    t.regex(reply.json<{ message: string }>().message, message);
  }
  const cli = await netctl(['run', '--network', 'none', '--security-opt', 'label=disable', 'true']);
  t.is(cli.code, 125);
  t.regex(cli.stderr, /security option "label=disable" is not supported/);
  const hostname = await netctl(['run', '--network', 'none', '--hostname', 'a b', 'true']);
  t.is(hostname.code, 125);
  t.regex(hostname.stderr, /invalid hostname "a b"/);
  t.is((await ok(netctl, ['ps', '-aq'])).trim().split('\n').length, 2, 'nothing was created by the refused requests');

  // What is valid: a 63-character label, 64 in all, a search domain with its final dot, "." for none.
  await ok(netctl, ['run', '--rm', '--network', 'none', '--hostname', 'a'.repeat(63), '--dns-search', 'example.com.', 'true']);
  await ok(netctl, ['run', '--rm', '--network', 'none', '--hostname', `${'a'.repeat(61)}.bc`, 'true']);
  t.is(await ok(netctl, ['run', '--rm', '--network', 'none', '--dns-search', '.', '--dns', '192.0.2.53', 'cat', '/etc/resolv.conf']), 'nameserver 192.0.2.53\n');
});

test('symlinks to host paths where the shim mounts /etc files (in the image, or in the container\'s layer before a restart) resolve inside the container\'s root', async (t) => {
  const { daemon, netctl } = await setup(t);
  const planted = (): string => path.join(os.tmpdir(), `nctl-planted-${crypto.randomBytes(6).toString('hex')}`);
  const inImage = planted();
  const rootfs = ensureBusyboxRoot(scratch(t));
  fs.symlinkSync(inImage, path.join(rootfs, 'etc', 'hosts'));
  t.teardown(() => fs.rmSync(inImage, { force: true }));
  const run = await netctl(['run', '--network', 'none', '--rootfs', rootfs, '--name', 'image', 'cat', inImage]);
  t.false(fs.existsSync(inImage), 'no file was made on the host');
  t.regex(run.stdout, /^127\.0\.0\.1\tlocalhost$/m, 'the hosts file is bound where the link leads inside the root');

  const onRestart = planted();
  t.teardown(() => fs.rmSync(onRestart, { force: true }));
  const id = (await ok(netctl, ['run', '-d', '--network', 'none', '--name', 'restarted', 'sh', '-c', 'cat /etc/resolv.conf']).then((out) => out.trim()));
  await request(daemon.socketPath, 'POST', `/containers/${id}/wait`);
  const upperEtc = path.join(daemon.root, 'containers', id, 'upper', 'etc');
  fs.rmSync(path.join(upperEtc, 'resolv.conf'));
  fs.symlinkSync(onRestart, path.join(upperEtc, 'resolv.conf'));
  const started = await request(daemon.socketPath, 'POST', `/containers/${id}/start`);
  t.is(started.status, 204, started.text);
  t.is((await request(daemon.socketPath, 'POST', `/containers/${id}/wait`)).json<{ StatusCode: number }>().StatusCode, 0);
  t.false(fs.existsSync(onRestart), 'no file was made on the host');
  t.true(fs.existsSync(path.join(daemon.root, 'containers', id, 'upper', onRestart)), "made in the container's own layer instead");

  fs.rmSync(path.join(upperEtc, 'resolv.conf'));
  fs.mkdirSync(path.join(upperEtc, 'resolv.conf'));
  const refused = await request(daemon.socketPath, 'POST', `/containers/${id}/start`);
  t.is(refused.status, 400);
  t.regex(refused.json<{ message: string }>().message, /\/etc\/resolv\.conf in the container's root: Is a directory/);
});

test('a root path with overlayfs separators (",", ":", "\\") mounts as one layer, and the image stays untouched', async (t) => {
  const { netctl } = await setup(t);
  const rootfs = ensureBusyboxRoot(path.join(scratch(t), 'odd,name:with\\separators'));
  t.is(await ok(netctl, ['run', '--rm', '--network', 'none', '--rootfs', rootfs, 'sh', '-c', 'echo layer > /written && cat /written']), 'layer\n');
  t.false(fs.existsSync(path.join(rootfs, 'written')), "the write went to the container's layer, not the image");
});

test('exec: a command named like an option runs; the container\'s environment (LD_PRELOAD too) reaches only the container', async (t) => {
  const { netctl } = await setup(t);
  // A library that, when any process loads it, leaves a mark on the host.
  const dir = scratch(t);
  const mark = path.join(dir, 'preloaded');
  fs.writeFileSync(path.join(dir, 'preload.c'), `#include <fcntl.h>\n#include <unistd.h>\n__attribute__((constructor)) static void mark(void) { close(open(${JSON.stringify(mark)}, O_CREAT | O_WRONLY, 0644)); }\n`);
  execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(dir, 'preload.so'), path.join(dir, 'preload.c')]);
  await ok(netctl, ['run', '-d', '--name', 'c', '--network', 'none', '-e', `LD_PRELOAD=${path.join(dir, 'preload.so')}`, '-e', 'GREETING=hi', 'sleep', '300']);
  t.false(fs.existsSync(mark), 'the start loaded nothing on the host');
  const run = await netctl(['exec', 'c', 'sh', '-c', 'echo $LD_PRELOAD $GREETING']);
  t.is(run.stdout, `${path.join(dir, 'preload.so')} hi\n`, 'the container has its environment');
  t.is(run.stderr, '');
  t.false(fs.existsSync(mark), 'the exec loaded nothing on the host');

  await ok(netctl, ['exec', 'c', 'sh', '-c', 'printf "#!/bin/sh\\necho ran as \\$0 \\$1\\n" > /bin/-h && chmod +x /bin/-h']);
  t.is(await ok(netctl, ['exec', 'c', '--', '-h', '--version']), 'ran as /bin/-h --version\n');
  const missing = await netctl(['exec', 'c', 'nosuch']);
  t.is(missing.code, 126, "Docker's exec code for a command that cannot start");
  t.regex(missing.stderr, /exec nosuch: executable file not found in \$PATH/);
  t.regex(await ok(netctl, ['exec', 'c', 'ls', '/']), /^bin$/m, "the container's root");
  t.is((await inspect(netctl, 'c')).State.Running, true);
});
