// What the API answers bad input with, case by case, against a daemon in a test host: Docker's
// status and message (checked on dockerd 20.10), or netctl's stricter 400 where README says so,
// and nothing made or changed by a refused request.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { type HttpReply, request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

type T = Parameters<typeof startDaemon>[0] & Parameters<typeof createTestNamespace>[0];

async function setup(t: T, args: string[] = ['--bridge', 'none']): Promise<{ ns: TestNamespace; daemon: TestDaemon; api: (method: string, urlPath: string, body?: unknown) => Promise<HttpReply> }> {
  const ns = createTestNamespace(t, 'nctl-bad');
  const daemon = await startDaemon(t, { netns: ns.path, args });
  const api = (method: string, urlPath: string, body?: unknown): Promise<HttpReply> => request(daemon.socketPath, method, `/v1.41${urlPath}`, body);
  t.teardown(async () => {
    for (const { Id } of (await api('GET', '/containers/json?all=1')).json<Array<{ Id: string }>>()) await api('DELETE', `/containers/${Id}?force=1`);
  });
  return { ns, daemon, api };
}

const message = (reply: HttpReply): string => reply.json<{ message: string }>().message;
const linkNames = (netnsPath: string): string[] => (JSON.parse(execFileSync('nsenter', [`--net=${netnsPath}`, 'ip', '-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>).map((l) => l.ifname).sort();

/** Creates and starts a busybox container; resolves with its sandbox's namespace path ('' for --network host). */
async function run(api: (method: string, urlPath: string, body?: unknown) => Promise<HttpReply>, name: string, network: string, cmd: string[] = ['sleep', '300'], extra: Record<string, unknown> = {}): Promise<string> {
  const created = await api('POST', `/containers/create?name=${name}`, { Cmd: cmd, HostConfig: { NetworkMode: network }, ...extra });
  if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${created.text}`);
  const started = await api('POST', `/containers/${name}/start`);
  if (started.status !== 204) throw new Error(`start ${name}: ${started.status} ${started.text}`);
  return (await api('GET', `/containers/${name}/json`)).json<{ NetworkSettings: { SandboxKey: string } }>().NetworkSettings.SandboxKey;
}

test('connect and disconnect that a network mode rules out: Docker’s status and message, and the sandbox unchanged', async (t) => {
  const { api } = await setup(t);
  t.is((await api('POST', '/networks/create', { Name: 'n1', IPAM: { Config: [{ Subnet: '10.61.0.0/24' }] } })).status, 201);
  const sandboxes = { a1: await run(api, 'a1', 'n1'), anone: await run(api, 'anone', 'none'), ahost: await run(api, 'ahost', 'host') };
  const linksBefore = { a1: linkNames(sandboxes.a1), anone: linkNames(sandboxes.anone) };
  t.deepEqual(linksBefore, { a1: ['eth0', 'lo'], anone: ['lo'] });
  const hostConflict = 'container cannot be disconnected from host network or connected to host network';
  const noneConflict = 'container cannot be connected to multiple networks with one of the networks in private (none) mode';
  const sharedConflict = 'container sharing network namespace with another container or host cannot be connected to any other network';
  const cases: Array<[string, string, 'connect' | 'disconnect', number, string | RegExp]> = [
    ['host', 'a1', 'connect', 400, hostConflict],
    ['host', 'anone', 'connect', 400, hostConflict],
    ['host', 'ahost', 'connect', 403, 'endpoint with name ahost already exists in network host'],
    ['none', 'a1', 'connect', 400, noneConflict],
    ['none', 'anone', 'connect', 403, 'endpoint with name anone already exists in network none'],
    ['none', 'ahost', 'connect', 400, sharedConflict],
    ['n1', 'anone', 'connect', 400, noneConflict],
    ['n1', 'ahost', 'connect', 400, sharedConflict],
    ['n1', 'a1', 'connect', 403, 'endpoint with name a1 already exists in network n1'],
    ['host', 'ahost', 'disconnect', 400, hostConflict],
    // Docker lets a --network none container leave none (and join others then); netctl keeps it on none.
    ['none', 'anone', 'disconnect', 403, /^container anone runs with --network none, which netctl keeps for the container's life/],
    ['n1', 'ahost', 'disconnect', 403, /^container ahost is not connected to network n1/],
  ];
  for (const [network, container, verb, status, text] of cases) {
    const reply = await api('POST', `/networks/${network}/${verb}`, { Container: container });
    const what = `${verb} ${container} ${network}: ${reply.text}`;
    t.is(reply.status, status, what);
    if (typeof text === 'string') t.is(message(reply), text, what);
    else t.regex(message(reply), text, what);
  }
  // The networks by ID and prefix are the same networks.
  const hostId = (await api('GET', '/networks/host')).json<{ Id: string }>().Id;
  t.is((await api('POST', `/networks/${hostId.slice(0, 6)}/connect`, { Container: 'a1' })).status, 400);
  t.deepEqual({ a1: linkNames(sandboxes.a1), anone: linkNames(sandboxes.anone) }, linksBefore, 'no interface was added or taken');
  t.is(sandboxes.ahost, '');
});

test('a container created with a predefined network named by ID is refused with the reason, and nothing is left', async (t) => {
  const { daemon, api } = await setup(t);
  for (const name of ['host', 'none']) {
    const id = (await api('GET', `/networks/${name}`)).json<{ Id: string }>().Id;
    const reply = await api('POST', '/containers/create', { Cmd: ['true'], HostConfig: { NetworkMode: id } });
    t.is(reply.status, 400, reply.text);
    t.regex(message(reply), new RegExp(`network ${name} \\(driver (null|host)\\) has no interface to give a sandbox: a container is on it only by running with --network ${name}`));
  }
  t.deepEqual((await api('GET', '/containers/json?all=1')).json(), []);
  t.false(fs.existsSync(`${daemon.runDir}/netns`) && fs.readdirSync(`${daemon.runDir}/netns`).length > 0, 'no sandbox left');
});

test('subnets no network can use are refused with 400 before anything is made; link-local IPv4 works as in Docker', async (t) => {
  const { ns, api } = await setup(t);
  const linksBefore = linkNames(ns.path);
  const cases: Array<[string, RegExp]> = [
    ['ff05::/64', /the IPv6 multicast range \(ff00::\/8\)/],
    ['ff00::/8', /the IPv6 multicast range/],
    ['::/64', /the IPv6 unspecified and loopback addresses \(::\/127\)/],
    ['::/120', /the IPv6 unspecified and loopback addresses/],
    ['fe80::/64', /the IPv6 link-local range \(fe80::\/10\)/],
    ['224.1.0.0/24', /the IPv4 multicast range \(224\.0\.0\.0\/4\)/],
    ['192.0.0.0/2', /the IPv4 multicast range/],
    ['127.5.0.0/16', /the IPv4 loopback range \(127\.0\.0\.0\/8\)/],
    ['0.0.0.0/8', /the IPv4 "this network" range \(0\.0\.0\.0\/8\)/],
    ['0.0.0.0/0', /the IPv4 "this network" range/],
  ];
  for (const [subnet, reason] of cases) {
    const v6 = subnet.includes(':');
    const reply = await api('POST', '/networks/create', { Name: 'odd', EnableIPv6: v6, IPAM: { Config: [...(v6 ? [{ Subnet: '10.62.0.0/24' }] : []), { Subnet: subnet }] } });
    t.is(reply.status, 400, `${subnet}: ${reply.text}`);
    t.regex(message(reply), new RegExp(`^subnet ${subnet.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} reaches into ${reason.source}.*, which no network can use; choose a private range`), subnet);
  }
  t.deepEqual(linkNames(ns.path), linksBefore, 'no bridge was made');
  t.deepEqual((await api('GET', '/networks')).json<Array<{ Name: string }>>().map((n) => n.Name).sort(), ['host', 'none']);
  // The refused requests took no pool: 10.62.0.0/24 is free.
  t.is((await api('POST', '/networks/create', { Name: 'after', IPAM: { Config: [{ Subnet: '10.62.0.0/24' }] } })).status, 201);
  t.is((await api('POST', '/networks/create', { Name: 'linklocal', IPAM: { Config: [{ Subnet: '169.254.5.0/24' }] } })).status, 201);
  await run(api, 'l1', 'linklocal');
  await run(api, 'l2', 'linklocal');
  const exec = (await api('POST', '/containers/l1/exec', { Cmd: ['ping', '-c', '1', '-W', '2', '169.254.5.3'] })).json<{ Id: string }>().Id;
  await api('POST', `/exec/${exec}/start`, {});
  t.is((await api('GET', `/exec/${exec}/json`)).json<{ ExitCode: number }>().ExitCode, 0, 'a link-local network carries traffic');
});

test('a subnet another network has is refused with 403 naming it (Docker’s words first), also when both are created at once; the pool is not shared', async (t) => {
  const { ns, api } = await setup(t);
  t.is((await api('POST', '/networks/create', { Name: 'n1', EnableIPv6: true, IPAM: { Config: [{ Subnet: '10.63.0.0/24' }, { Subnet: 'fd63::/64' }] } })).status, 201);
  const cases: Array<[unknown, RegExp]> = [
    [{ Name: 'n2', IPAM: { Config: [{ Subnet: '10.63.0.0/24' }] } }, /^Pool overlaps with other one on this address space: subnet 10\.63\.0\.0\/24 is network n1's; choose another subnet, or connect the containers to n1$/],
    [{ Name: 'n2', IPAM: { Config: [{ Subnet: '10.63.0.0/24', IPRange: '10.63.0.128/25' }] } }, /^Pool overlaps with other one on this address space: subnet 10\.63\.0\.0\/24 is network n1's/],
    [{ Name: 'n2', IPAM: { Config: [{ Subnet: '10.63.0.0/25' }] } }, /^Pool overlaps with other one on this address space: subnet 10\.63\.0\.0\/25 overlaps 10\.63\.0\.0\/24 of network n1/],
    [{ Name: 'n2', EnableIPv6: true, IPAM: { Config: [{ Subnet: '10.64.0.0/24' }, { Subnet: 'fd63::/64' }] } }, /^Pool overlaps with other one on this address space: subnet fd63::\/64 is network n1's/],
    [{ Name: 'n2', Driver: 'macvlan', IPAM: { Config: [{ Subnet: '10.63.0.0/24' }] } }, /subnet 10\.63\.0\.0\/24 is network n1's/],
  ];
  const linksBefore = linkNames(ns.path);
  for (const [body, text] of cases) {
    const reply = await api('POST', '/networks/create', body);
    t.is(reply.status, 403, reply.text);
    t.regex(message(reply), text);
  }
  const twice = await api('POST', '/networks/create', { Name: 'n2', IPAM: { Config: [{ Subnet: '10.64.0.0/24' }, { Subnet: '10.64.0.0/24' }] } });
  t.is(twice.status, 400);
  t.is(message(twice), 'subnet 10.64.0.0/24 is given twice; give it once');
  t.deepEqual(linkNames(ns.path), linksBefore, 'nothing was made');

  // Two at once: one gets the subnet, the other is refused.
  const racing = await Promise.all(['r1', 'r2'].map((Name) => api('POST', '/networks/create', { Name, IPAM: { Config: [{ Subnet: '10.65.0.0/24' }] } })));
  t.deepEqual(racing.map((r) => r.status).sort(), [201, 403], racing.map((r) => r.text).join(' '));

  // n1's containers have the pool to themselves; once n1 is gone, the subnet is free and starts empty.
  await run(api, 'c1', 'n1');
  t.is((await api('POST', '/networks/create', { Name: 'n3', IPAM: { Config: [{ Subnet: '10.63.0.0/24' }] } })).status, 403);
  await api('DELETE', '/containers/c1?force=1');
  t.is((await api('DELETE', '/networks/n1')).status, 204);
  t.is((await api('POST', '/networks/create', { Name: 'n3', IPAM: { Config: [{ Subnet: '10.63.0.0/24' }] } })).status, 201);
  await run(api, 'c3', 'n3');
  const inspect = (await api('GET', '/containers/c3/json')).json<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>();
  t.is(inspect.NetworkSettings.Networks['n3']?.IPAddress, '10.63.0.2');
});

test('stop with a t that is no whole number is 400 and stops nothing; a negative t waits for the exit without a kill, as Docker', async (t) => {
  const { api } = await setup(t);
  await run(api, 's1', 'none', ['sleep', '300']);
  for (const value of ['abc', '1.5', '0x10', ' 3', '99999999999999999999']) {
    const reply = await api('POST', `/containers/s1/stop?t=${encodeURIComponent(value)}`);
    t.is(reply.status, 400, value);
    t.is(message(reply), `invalid value for t: "${value}": give the seconds to wait before the kill as a whole number (negative: no limit)`);
  }
  t.is((await api('POST', '/containers/nosuch/stop?t=abc')).status, 400, 'read before the container is looked up, as Docker');
  t.true((await api('GET', '/containers/s1/json')).json<{ State: { Running: boolean } }>().State.Running, 'still running');
  // PID 1 of the container ignores SIGTERM (it has no handler): a negative t waits for sleep to end by itself.
  await run(api, 's2', 'none', ['sleep', '2']);
  t.is((await api('POST', '/containers/s2/stop?t=-1')).status, 204);
  t.is((await api('GET', '/containers/s2/json')).json<{ State: { ExitCode: number } }>().State.ExitCode, 0, 'not killed');
  t.is((await api('POST', '/containers/s1/stop?t=0')).status, 204);
  t.is((await api('GET', '/containers/s1/json')).json<{ State: { ExitCode: number } }>().State.ExitCode, 137, 'killed at once');
});

test('kill with a signal that is none is 400 "Invalid signal: X" and sends nothing; names, numbers and real-time signals reach the container', async (t) => {
  const { api } = await setup(t);
  const trap = 'trap "echo got-usr1" USR1; trap "echo got-rt" 35; trap "echo got-hup" HUP; while :; do sleep 0.1; done';
  await run(api, 'k1', 'none', ['sh', '-c', trap]);
  for (const value of ['BOGUS', 'SIGBOGUS', '0', '65', '-1', '9.0', ' HUP', 'RTMIN+16']) {
    const reply = await api('POST', `/containers/k1/kill?signal=${encodeURIComponent(value)}`);
    t.is(reply.status, 400, value);
    t.is(message(reply), `Invalid signal: ${value}`);
  }
  t.is((await api('POST', '/containers/nosuch/kill?signal=BOGUS')).status, 400, 'read before the container is looked up, as Docker');
  t.true((await api('GET', '/containers/k1/json')).json<{ State: { Running: boolean } }>().State.Running);
  for (const value of ['usr1', 'RTMIN+1', '1']) t.is((await api('POST', `/containers/k1/kill?signal=${encodeURIComponent(value)}`)).status, 204, value);
  const logs = async (): Promise<string> => (await api('GET', '/containers/k1/logs?stdout=1')).text;
  // The shell runs pending traps in its own order.
  const allArrived = (text: string): boolean => ['got-usr1', 'got-rt', 'got-hup'].every((line) => text.includes(line));
  const deadline = Date.now() + 10_000;
  while (!allArrived(await logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.true(allArrived(await logs()), await logs());
  t.is((await api('POST', '/containers/k1/kill')).status, 204, 'no signal: SIGKILL');
  t.is((await api('POST', '/containers/k1/wait')).json<{ StatusCode: number }>().StatusCode, 137);
});

test('Env: an entry without "=" unsets the variable (as Docker), "=x" and "" are refused with Docker’s message, a NUL with 400', async (t) => {
  const { api } = await setup(t);
  const created = await api('POST', '/containers/create?name=e1', { Cmd: ['sh', '-c', 'env; sleep 300'], Env: ['FOO=1', 'FOO', 'BAR=x=y', 'EMPTY=', 'HOME'], HostConfig: { NetworkMode: 'none' } });
  t.is(created.status, 201, created.text);
  t.is((await api('POST', '/containers/e1/start')).status, 204);
  t.deepEqual((await api('GET', '/containers/e1/json')).json<{ Config: { Env: string[] } }>().Config.Env.slice(1), ['FOO=1', 'FOO', 'BAR=x=y', 'EMPTY=', 'HOME'], 'kept as given');
  const deadline = Date.now() + 10_000;
  let env = '';
  while (!env.includes('BAR=') && Date.now() < deadline) env = (await api('GET', '/containers/e1/logs?stdout=1')).text;
  t.regex(env, /^BAR=x=y$/m);
  t.regex(env, /^EMPTY=$/m);
  t.regex(env, /PATH=\/usr\/local\/sbin:/);
  t.notRegex(env, /^FOO=/m);
  t.notRegex(env, /FO=/, 'not cut at a missing "="');
  // exec gets the same environment.
  const exec = (await api('POST', '/containers/e1/exec', { Cmd: ['env'] })).json<{ Id: string }>().Id;
  const output = (await api('POST', `/exec/${exec}/start`, {})).text;
  t.regex(output, /BAR=x=y/);
  t.notRegex(output, /FOO=/);
  for (const [entry, text] of [
    ['=x', 'invalid environment variable: =x'],
    ['', 'invalid environment variable: '],
    ['X=a\u0000b', 'invalid environment variable "X=a\\u0000b": it holds a NUL character, which no environment can carry'],
  ]) {
    const reply = await api('POST', '/containers/create', { Cmd: ['true'], Env: [entry], HostConfig: { NetworkMode: 'none' } });
    t.is(reply.status, 400, entry);
    t.is(message(reply), text);
  }
  t.is((await api('GET', '/containers/json?all=1')).json<unknown[]>().length, 1, 'nothing else was created');
});

test('other strings a process cannot take are refused at create; the working directory is cleaned as Docker cleans it', async (t) => {
  const { api } = await setup(t);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ Cmd: ['echo', 'a\u0000b'] }, /^the command argument "a\\u0000b" holds a NUL character/],
    [{ Cmd: ['true'], Hostname: 'x'.repeat(65) }, /^invalid hostname "x{65}": .* 64 characters in all$/],
    [{ Cmd: ['true'], Hostname: 'a\u0000b' }, /^invalid hostname "a\\u0000b"/],
    [{ Cmd: ['true'], WorkingDir: '/tmp\u0000' }, /^the working directory "\/tmp\\u0000" holds a NUL character/],
  ];
  for (const [body, text] of cases) {
    const reply = await api('POST', '/containers/create', { ...body, HostConfig: { NetworkMode: 'none' } });
    t.is(reply.status, 400, reply.text);
    t.regex(message(reply), text);
  }
  const cleaned = await api('POST', '/containers/create?name=w1', { Cmd: ['sh', '-c', 'pwd; sleep 300'], WorkingDir: '/../../etc/../tmp', HostConfig: { NetworkMode: 'none' } });
  t.is(cleaned.status, 201);
  t.is((await api('GET', '/containers/w1/json')).json<{ Config: { WorkingDir: string } }>().Config.WorkingDir, '/tmp');
  // Docker's StrSlice: a Cmd given as one string is a command of one word.
  t.is((await api('POST', '/containers/create?name=w2', { Cmd: 'true', HostConfig: { NetworkMode: 'none' } })).status, 201);
});
