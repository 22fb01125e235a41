// The npm package as an engine gets it: `npm pack` (its prepack compiles dist/src) from a copy of
// this repository's sources, `npm install` of the tarball into an empty project outside the
// repository (its install script builds the addon and the shim there), then examples/embed run in
// a test host against that install: an address, a name resolved through 127.0.0.11, a reply; and
// nothing of it left in the test host afterwards.
//
// Offline by design: neither CI nor this machine need reach a registry. netctl's dependencies are
// the ones this repository's `npm ci` installed (the non-dev entries of package-lock.json, the same
// versions, better-sqlite3 with its binary already built), copied into the project before
// `npm install --offline` of the tarball (with an empty cache), so npm finds them in place and
// fetches nothing. The tarball itself is installed as any dependency is: unpacked and its install
// script run, so the addon and the shim are compiled in the project from the sources it ships
// (node-gyp finds Node's headers where the checkout's own build did: npm's nodedir, or its cache).
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipToBigInt, parsePrefix, prefixContains } from '../../src/ip/address';
import { createTestNamespace } from '../helpers/netns';

const REPO = path.resolve(__dirname, '..', '..', '..');

interface Run {
  /** The process group it ran in (its own): what a teardown ends if anything of it is left. */
  group: number;
  code: number | null;
  stdout: string;
  /** stdout and stderr together. */
  output: string;
}

/** Runs a command in a process group of its own to its end, or to `timeoutMs` (then SIGKILL to the group). */
function run(command: string, args: string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = child.pid!;
    let stdout = '';
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      output += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => {
      output += `\n[killed after ${options.timeoutMs / 1000} s]`;
      endGroup(group);
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ group, code, stdout, output });
    });
  });
}

/** SIGKILL to what is left of a process group this file started; false when none is left. */
function endGroup(group: number): boolean {
  try {
    process.kill(-group, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

const groupAlive = (group: number): boolean => {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
};

/** The environment without what an enclosing npm run sets (npm_config_local_prefix would point npm at this repository). */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_') && key !== 'INIT_CWD'));
}

/**
 * Copies the installed production dependencies: the top-level entries of the lockfile that are
 * not dev-only (nested ones come with their parent), and their commands in node_modules/.bin
 * (npm re-fetches a package whose commands are missing).
 */
function copyProductionDependencies(project: string): void {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const copied: string[] = [];
  for (const [where, entry] of Object.entries(lock.packages)) {
    const name = where.startsWith('node_modules/') ? where.slice('node_modules/'.length) : undefined;
    if (name === undefined || name.includes('/node_modules/') || entry.dev) continue;
    const installed = path.join(REPO, where);
    // An optional dependency for another platform is in the lockfile but not installed.
    if (!fs.existsSync(installed)) continue;
    fs.cpSync(installed, path.join(project, where), { recursive: true, dereference: true });
    copied.push(name);
  }
  const bin = path.join(REPO, 'node_modules', '.bin');
  fs.mkdirSync(path.join(project, 'node_modules', '.bin'));
  for (const command of fs.readdirSync(bin)) {
    const target = fs.readlinkSync(path.join(bin, command));
    const of = path.relative(path.join(bin, '..'), path.resolve(bin, target));
    if (copied.some((name) => of.startsWith(name + path.sep))) fs.symlinkSync(target, path.join(project, 'node_modules', '.bin', command));
  }
}

const BUILT_IN_CHAIN = /^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /;
// What the tarball may hold: the compiled library with its types, the addon's and the shim's
// sources, the CLI, and what npm always adds. No tests, benchmarks, source maps or fixtures.
const SHIPPED = /^(dist\/src\/.+\.(js|d\.ts)|addon\/(binding\.gyp|src\/[a-z_]+\.(cc|h)|shim\/[a-z-]+\.[ch])|bin\/netctl|README\.md|LICENSE|package\.json)$/;

/** Polls `check` every 50 ms for up to `ms`. */
async function eventually(check: () => boolean, ms = 5_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

const tail = (text: string): string => text.split('\n').slice(-40).join('\n');

test('the packed tarball installs offline into an empty project, builds its addon there, and the embedding example runs on it and cleans up', async (t) => {
  // Mostly the two compilations (dist/src, then the addon and the shim) on a busy machine. More
  // than the steps' own bounds together: each step ends on its own, and the teardown sees it.
  t.timeout(700_000, 'npm pack, an install that compiles the addon, the example');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-pack-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));

  // Packed from a copy: prepack replaces dist/src, which other tests running now load from.
  const source = path.join(base, 'source');
  const skip = new Set(['node_modules', 'dist', '.git', 'build']);
  fs.cpSync(REPO, source, { recursive: true, filter: (from) => !skip.has(path.basename(from)) });
  fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules')), path.join(source, 'node_modules'));
  const packed = await run('npm', ['pack', '--pack-destination', base, '--json'], { cwd: source, timeoutMs: 240_000, env: npmEnv() });
  if (packed.code !== 0) return t.fail(`npm pack failed (exit ${packed.code}):\n${tail(packed.output)}`);
  // The prepack script's own lines come before the JSON.
  const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[/m))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const shipped = tarball!.files.map((f) => f.path);
  for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/embed.js', 'addon/binding.gyp', 'addon/src/main.cc', 'addon/shim/netctl-shim.c', 'bin/netctl']) {
    t.true(shipped.includes(needed), `${needed} is in the tarball`);
  }
  t.deepEqual(shipped.filter((f) => !SHIPPED.test(f)), [], 'only the built library, the addon sources, the CLI and the docs are shipped');

  const project = path.join(base, 'project');
  const tarballPath = path.join(base, tarball!.filename);
  fs.mkdirSync(project);
  // allowScripts: npm's consent to the install script that builds netctl's addon (a tarball is named by its path).
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'engine', version: '1.0.0', private: true, allowScripts: { [`file:${tarballPath}`]: true } }));
  copyProductionDependencies(project);
  // An empty cache of its own: nothing may come from npm's cache either.
  const npmInstall = ['install', '--offline', `--cache=${path.join(base, 'npm-cache')}`, '--no-audit', '--no-fund', '--loglevel=warn', tarballPath];
  const installed = await run('npm', npmInstall, { cwd: project, timeoutMs: 300_000, env: npmEnv() });
  if (installed.code !== 0) return t.fail(`npm install of the tarball failed (exit ${installed.code}):\n${tail(installed.output)}`);
  t.regex(installed.stdout, /added 1 package/, 'npm added netctl and kept the dependencies in place');
  t.notRegex(installed.output, /install-scripts +netctl@/, 'the install script ran with consent, not as an unreviewed one');
  const built = path.join(project, 'node_modules', 'netctl', 'addon', 'build', 'Release');
  t.true(fs.existsSync(path.join(built, 'netctl_native.node')) && fs.existsSync(path.join(built, 'netctl-shim')), 'the install script built the addon and the shim in the project');
  const cli = await run(path.join(project, 'node_modules', '.bin', 'netctl'), ['--help'], { cwd: project, timeoutMs: 30_000 });
  t.true(cli.code === 0 && cli.output.includes('Usage:  netctl COMMAND'), `the installed CLI runs:\n${cli.output}`);

  fs.copyFileSync(path.join(REPO, 'examples', 'embed', 'engine.js'), path.join(project, 'engine.js'));
  const host = createTestNamespace(t, 'nctl-pkg');
  const tmp = path.join(base, 'tmp');
  fs.mkdirSync(tmp);
  let example: Run | undefined;
  const said = (key: string): string[] =>
    (example?.output ?? '')
      .split('\n')
      .map((line) => /^([a-z ]+): (.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === key)
      .map((m) => m[2]!);
  t.teardown(async () => {
    // What a failed example may have left of its own: processes (its namespace holder, its
    // responder) and the namespace it named.
    if (example) endGroup(example.group);
    const named = said('namespace').find((key) => key.startsWith('/run/netns/'));
    if (named && fs.existsSync(named)) await run('ip', ['netns', 'del', path.basename(named)], { cwd: base, timeoutMs: 10_000 });
  });
  example = await run('nsenter', [`--net=${host.path}`, process.execPath, 'engine.js'], { cwd: project, timeoutMs: 60_000, env: { ...process.env, TMPDIR: tmp } });
  t.is(example.code, 0, example.output);

  const [subnet] = said('subnet');
  const [address] = said('address');
  const ip = ipToBigInt(address!);
  t.true(prefixContains(parsePrefix(subnet!), ip.version, ip.value), `${address} is in ${subnet}`);
  t.deepEqual(said('resolved web'), [address!], 'the name resolved through 127.0.0.11 is the address');
  t.deepEqual(said('reply'), ['hello from web']);

  const [named, held] = said('namespace');
  t.regex(named!, /^\/run\/netns\/engine-/);
  t.regex(held!, /^\/proc\/\d+\/ns\/net$/);
  t.false(fs.existsSync(named!), `${named} was removed`);
  const group = example.group;
  t.true(await eventually(() => !groupAlive(group)), 'no process of the example is left (namespace holder, responder)');
  t.false(fs.existsSync(held!), `${held} is gone with its process`);
  t.deepEqual(host.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname), ['lo'], 'no link is left in the test host');
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const added = host.run(tool).split('\n').filter((line) => line.startsWith('-A ') || (line.startsWith(':') && !BUILT_IN_CHAIN.test(line)));
    t.deepEqual(added, [], `no chain or rule is left (${tool})`);
  }
  t.deepEqual(fs.readdirSync(tmp), [], "the example's state directory is gone");
  t.false(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(named!), 'no mount of its namespace is left');
});
