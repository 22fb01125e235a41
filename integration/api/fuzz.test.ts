// The daemon's API under random and hostile input (fast-check): requests at every route of the
// router, with random and adversarial paths, query strings and bodies, against a daemon in a test
// host. No request may get a 5xx or no answer, the daemon must answer /_ping after each, and once
// the test removes what the requests created, the test host is as it was: no sandbox namespace
// under the exec root, no link but the predefined bridge's, the same iptables chains and rules,
// no container process.
//
// Two passes: a fixed seed (the same requests every run) and a random one printed at the start and
// on failure; NETCTL_FUZZ_SEED=N replays a seed (the daemon's IDs differ, the requests do not).
import test from 'ava';
import fc from 'fast-check';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type DaemonParts, daemonRouter } from '../../src/api/routes';
import { isUnsupportedRoute } from '../../src/api/unsupported';
import { startDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { rawHttp } from '../helpers/raw-http';
import { shimPids } from '../helpers/shims';

const FIXED_SEED = 20261204;
/** Per pass: whichever comes first. Two passes stay well under a minute on a busy 2-core machine. */
const RUNS_PER_PASS = 1000;
const TIME_PER_PASS_MS = 12_000;

// Not the Docker paths netctl does not implement: they answer a 501 before reading anything.
const ROUTES = daemonRouter({ engine: { version: 'fuzz' } } as DaemonParts).list().filter((route) => !isUnsupportedRoute(route.method, route.pattern));

// ---- references to what the daemon holds, resolved when the request is sent ----

type Pool = 'network' | 'container' | 'running' | 'exec';

/** An object the daemon made (or a predefined network), picked by index when the request is sent. */
class Ref {
  constructor(
    readonly pool: Pool,
    readonly index: number,
    readonly form: 'id' | 'name' | 'prefix',
  ) {}
}

/** A value nested `depth` levels deep, written out only when the body is serialised. */
class Deep {
  constructor(
    readonly depth: number,
    readonly kind: 'array' | 'object',
  ) {}
}

class Known {
  readonly objects: Record<Pool, Array<{ id: string; name: string }>> = { network: [], container: [], running: [], exec: [] };
  /** How many of each the requests made. */
  readonly made = { network: 0, container: 0, exec: 0 };

  constructor(private readonly socketPath: string) {}

  /** The daemon's networks and containers as they are now (exec instances cannot be listed: they are noted as made). */
  async refresh(): Promise<void> {
    const list = async <T>(urlPath: string): Promise<T[]> => JSON.parse((await rawHttp(this.socketPath, 'GET', urlPath)).body) as T[];
    this.objects.network = (await list<{ Id: string; Name: string }>('/networks')).map((n) => ({ id: n.Id, name: n.Name }));
    const containers = (await list<{ Id: string; Names: string[]; State: string }>('/containers/json?all=1')).map((c) => ({ id: c.Id, name: c.Names[0]!.slice(1), state: c.State }));
    this.objects.container = containers;
    this.objects.running = containers.filter((c) => c.state === 'running');
  }

  /** Takes note of what a request made: an exec instance to start, or something a refresh will find. */
  async note(req: Request, status: number, reply: string): Promise<void> {
    if (status === 201) {
      const pool = ({ '/networks/create': 'network', '/containers/create': 'container', '/containers/{id}/exec': 'exec' } as const)[req.pattern] as keyof Known['made'] | undefined;
      if (pool) this.made[pool]++;
      if (pool === 'exec') {
        const id = (JSON.parse(reply) as { Id: string }).Id;
        this.objects.exec.push({ id, name: id });
      }
    }
    if (status < 300 && req.method !== 'GET' && req.method !== 'HEAD') await this.refresh();
  }

  resolve(ref: Ref): string {
    const pool = this.objects[ref.pool];
    const object = pool[ref.index % Math.max(pool.length, 1)];
    if (!object) return '0123456789ab';
    return ref.form === 'name' ? object.name : ref.form === 'prefix' ? object.id.slice(0, 5) : object.id;
  }
}

function serialise(value: unknown, known: Known): string {
  if (value instanceof Ref) return JSON.stringify(known.resolve(value));
  if (value instanceof Deep) return value.kind === 'array' ? '['.repeat(value.depth) + ']'.repeat(value.depth) : '{"a":'.repeat(value.depth) + '0' + '}'.repeat(value.depth);
  if (Array.isArray(value)) return `[${value.map((v) => serialise(v, known)).join(',')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${serialise(v, known)}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

// ---- values ----

const ref = (pool: Pool): fc.Arbitrary<Ref> => fc.tuple(fc.nat(1000), fc.constantFrom('id' as const, 'name' as const, 'prefix' as const)).map(([i, form]) => new Ref(pool, i, form));

/** Usually `usual`, now and then `unusual`. */
const mostly = <T, U>(usual: fc.Arbitrary<T>, unusual: fc.Arbitrary<U>): fc.Arbitrary<T | U> => fc.oneof({ arbitrary: usual, weight: 5 }, { arbitrary: unusual, weight: 1 });

const text = fc.oneof(
  { arbitrary: fc.string({ maxLength: 20 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 2 },
  { arbitrary: fc.constantFrom('', ' ', '.', '..', '../..', '%2e%2e', '%00', '\u0000', '\n', 'é', '𝔘', '\ud800', '__proto__', 'constructor', 'prototype', 'a/b', 'toString'), weight: 3 },
  { arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

/** The prototype keys JSON.parse makes own properties of. */
const PROTO_KEYS = JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"hasOwnProperty":"x"}') as unknown;

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, [], {}, PROTO_KEYS),
  fc.integer(),
  text,
  fc.array(text, { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.tuple(fc.integer({ min: 1_000, max: 100_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([depth, kind]) => new Deep(depth, kind)),
);

/** How a body's fields are made: plausible values only, or now and then anything at all. */
type Field = <T>(plausible: fc.Arbitrary<T>) => fc.Arbitrary<unknown>;
const clean: Field = (plausible) => plausible;
const dirty: Field = (plausible) => mostly(plausible, hostile);
/** Half the bodies are plausible throughout (they get far, and make things), half have hostile fields. */
const both = (make: (field: Field) => fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof(make(clean), make(dirty));
/** An object whose fields may be missing, but for `required`. */
const record = (fields: Record<string, fc.Arbitrary<unknown>>, required: string[] = []): fc.Arbitrary<unknown> => fc.record(fields, { requiredKeys: required });

const subnet = mostly(
  fc.constantFrom('10.40.0.0/24', '10.40.0.0/24', '10.41.0.0/16', '10.42.0.0/31', '169.254.5.0/24', 'fd00:40::/64', 'fd00:40::/64', '2001:db8::/126'),
  fc.oneof(
    fc.constantFrom('10.40.0.0/25', '172.17.0.0/16', 'ff05::/64', 'ff00::/8', '::/64', '::1/128', '::/0', 'fe80::/64', '224.1.0.0/24', '127.5.0.0/16', '0.0.0.0/8', '0.0.0.0/0', '10.42.0.0/32', '255.255.255.254/31', '10.43.0.5/24', 'notacidr', '10.0.0.0/33', '10.44.0.0/24%eth0'),
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, n]) => `${ip}/${n}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, n]) => `${ip}/${n}`),
  ),
);

const address = mostly(fc.constantFrom('10.40.0.1', '10.40.0.9', '10.41.0.9', 'fd00:40::9'), fc.oneof(fc.constantFrom('10.40.0.0', '10.40.0.255', '10.40.0.128/25', '1.2.3.4', ''), fc.ipV4(), fc.ipV6(), text));

const stringMap = (field: Field): fc.Arbitrary<Record<string, unknown>> => fc.dictionary(mostly(fc.stringMatching(/^[a-z.]{1,10}$/), fc.oneof(text, fc.constantFrom('__proto__', 'constructor'))), field(text), { maxKeys: 3 });

const OPTIONS: Record<string, fc.Arbitrary<string>> = {
  'com.docker.network.bridge.name': mostly(fc.constantFrom('br-fz0', 'br-fz1'), fc.constantFrom('netctl0', 'lo', 'x'.repeat(20), '')),
  'com.docker.network.driver.mtu': mostly(fc.constantFrom('1500', '1400'), fc.constantFrom('68', '67', 'abc', '99999')),
  'com.docker.network.bridge.enable_icc': mostly(fc.constantFrom('true', 'false'), fc.constantFrom('maybe')),
  'com.docker.network.bridge.enable_ip_masquerade': mostly(fc.constantFrom('true', 'false'), fc.constantFrom('yes')),
  'com.docker.network.bridge.host_binding_ipv4': mostly(fc.constantFrom('0.0.0.0', '127.0.0.1'), fc.constantFrom('::1', 'abc')),
  'com.docker.network.bridge.inhibit_ipv4': fc.constantFrom('true', 'false'),
  parent: mostly(fc.constantFrom('netctl0', ''), fc.constantFrom('lo', 'nosuch0', 'nosuch0.5', 'x.0', 'a b')),
  macvlan_mode: mostly(fc.constantFrom('bridge', 'private', 'vepa', 'passthru'), fc.constantFrom('loud')),
  'foo.bar': fc.constant('1'),
};
const driverOptions = (field: Field): fc.Arbitrary<Record<string, unknown>> =>
  fc.constantFrom(...Object.keys(OPTIONS)).chain((key) => fc.oneof(fc.constant({}), field(OPTIONS[key]!).map((value) => ({ [key]: value }))));

const networkCreate = (field: Field): fc.Arbitrary<unknown> =>
  record({
    Name: field(mostly(fc.stringMatching(/^fz[a-z0-9]{1,6}$/), fc.oneof(fc.constantFrom('bridge', 'host', 'none', '-x', 'a b'), ref('network')))),
    Driver: field(mostly(fc.constantFrom('bridge', 'bridge', 'macvlan'), fc.constantFrom('null', 'host', 'overlay', ''))),
    CheckDuplicate: field(fc.boolean()),
    Internal: field(fc.boolean()),
    Attachable: field(fc.boolean()),
    EnableIPv6: field(fc.boolean()),
    Ingress: field(mostly(fc.constant(false), fc.constant(true))),
    IPAM: field(
      record({
        Driver: field(mostly(fc.constant('default'), fc.constant('nope'))),
        Config: field(fc.array(record({ Subnet: field(subnet), Gateway: field(address), IPRange: field(subnet), AuxiliaryAddresses: field(fc.dictionary(fc.constantFrom('a', 'b'), field(address), { maxKeys: 2 })) }), { maxLength: 2 })),
        Options: field(stringMap(field)),
      }),
    ),
    Options: field(driverOptions(field)),
    Labels: field(stringMap(field)),
  }, ['Name']);

/** Commands that end within seconds: stop, wait, logs --follow and exec must not outlast the time bound. */
const command = mostly(fc.constantFrom(['true'], ['echo', 'hi'], ['sh', '-c', 'echo out; echo err >&2; exit 3'], ['sleep', '2'], 'true'), fc.oneof(fc.constantFrom([], ['no-such-command']), fc.array(text, { maxLength: 3 }).map((args) => ['no-such-command', ...args])));

const endpointConfig = (field: Field): fc.Arbitrary<unknown> =>
  record({
    IPAMConfig: field(record({ IPv4Address: field(address), IPv6Address: field(address) })),
    Aliases: field(fc.array(field(mostly(fc.constantFrom('web', 'db'), text)), { maxLength: 2 })),
  });

const endpointsConfig = (field: Field, networks: number): fc.Arbitrary<unknown> =>
  fc.dictionary(mostly(fc.constantFrom('bridge'), fc.constantFrom('none', 'host', 'nosuch')), field(endpointConfig(field)), { maxKeys: networks });

const portBindings = (field: Field): fc.Arbitrary<unknown> =>
  fc.dictionary(
    mostly(fc.constantFrom('80/tcp', '80', '53/udp', '80/sctp'), fc.constantFrom('70000/tcp', 'abc', '0/tcp')),
    field(fc.array(record({ HostIp: field(mostly(fc.constantFrom('', '0.0.0.0', '127.0.0.1'), fc.constantFrom('::1', '10.9.9.9', 'abc'))), HostPort: field(mostly(fc.constantFrom('', '0', '8080'), fc.constantFrom('70000', 'abc', '-1'))) }), { maxLength: 2 })),
    { maxKeys: 2 },
  );

const containerCreate = (field: Field): fc.Arbitrary<unknown> =>
  record({
    Image: field(mostly(fc.constant('busybox'), fc.constant('alpine'))),
    Cmd: field(command),
    Env: field(fc.array(field(mostly(fc.constantFrom('A=b', 'FOO', 'PATH=/bin'), fc.oneof(fc.constantFrom('=x', '', 'PATH', 'HOSTNAME', 'X=\u0000y', 'A B=1'), text))), { maxLength: 3 })),
    WorkingDir: field(mostly(fc.constantFrom('/', '/tmp', '/../../..'), fc.constantFrom('rel', '/no/such/dir', ''))),
    Hostname: field(mostly(fc.constantFrom('h1', ''), fc.constantFrom('x'.repeat(70), 'a b', '-a'))),
    Rootfs: field(mostly(fc.constant(''), fc.constantFrom('/nonexistent', '/etc/passwd'))),
    HostConfig: field(
      record({
        NetworkMode: field(mostly(ref('network'), fc.constantFrom('host', 'none', 'bridge', 'default', 'nosuch'))),
        PortBindings: field(portBindings(field)),
        Dns: field(fc.array(field(mostly(fc.constant('1.1.1.1'), fc.constantFrom('abc', '::1', ''))), { maxLength: 2 })),
        DnsSearch: field(fc.array(field(mostly(fc.constant('example.com'), text)), { maxLength: 2 })),
        DnsOptions: field(fc.array(field(mostly(fc.constant('ndots:2'), text)), { maxLength: 2 })),
      }),
    ),
    NetworkingConfig: field(record({ EndpointsConfig: field(mostly(endpointsConfig(field, 1), endpointsConfig(field, 2))) })),
  }, ['Cmd']);

const connect = (field: Field): fc.Arbitrary<unknown> => record({ Container: field(mostly(ref('container'), text)), EndpointConfig: field(endpointConfig(field)), Force: field(fc.boolean()) }, ['Container']);
const execCreate = (field: Field): fc.Arbitrary<unknown> => record({ Cmd: field(command), AttachStdout: field(fc.boolean()), AttachStderr: field(fc.boolean()) }, ['Cmd']);

/** Bodies a route reads, by pattern; other routes get one now and then anyway. */
const BODIES: Record<string, fc.Arbitrary<unknown>> = {
  '/networks/create': both(networkCreate),
  '/containers/create': both(containerCreate),
  '/networks/{id}/connect': both(connect),
  '/networks/{id}/disconnect': both(connect),
  '/containers/{id}/exec': both(execCreate),
};

/** How often a route is picked: those that make things, more often, so later requests find them. */
const WEIGHTS: Record<string, number> = { '/networks/create': 12, '/containers/create': 12, '/networks/{id}/connect': 8, '/containers/{id}/start': 6, '/containers/{id}/exec': 4, '/exec/{id}/start': 4, '/networks/{id}/disconnect': 3, '/networks/prune': 1 };

/** A body as sent: a value to serialise, or raw text (broken JSON, a bare word). */
type Body = { value: unknown } | { raw: string } | undefined;

const body = (pattern: string): fc.Arbitrary<Body> => {
  const plausible = BODIES[pattern];
  return fc.oneof(
    { arbitrary: plausible ? plausible.map((value): Body => ({ value })) : fc.constant<Body>(undefined), weight: 10 },
    { arbitrary: hostile.map((value): Body => ({ value })), weight: 1 },
    { arbitrary: fc.constantFrom('{', '{"Name": ', 'null', '', '\ufeff{}', 'true', '"x"', '{"a":1}{"b":2}', '[]').map((raw): Body => ({ raw })), weight: 1 },
  );
};

// Signals that leave a container stopped (SIGSTOP and company) are left out: a stopped container
// would make stop, wait and logs --follow outlast the time bound.
const QUERY_VALUES = fc.constantFrom(
  '1', 'true', '0', 'false', 'abc', '-1', '1.5', '99999999999', ' 3', 'HUP', 'usr1', 'SIGKILL', 'KILL', '9', 'BOGUS', '65', 'RTMIN+1', '9.0', '0x10',
  '{}', '{"name":["a"]}', '{"name":{"fz":true}}', '{"type":["x"]}', '{"type":["custom"]}', '{"until":["24h"]}', '{"until":["x","y"]}', '{"dangling":["maybe"]}',
  '{"dangling":["true"]}', '[]', '{"__proto__":["x"]}', '{"label":{"a":true}}', '{"label!":["a"]}', '{"driver":[1]}', 'null', '',
);
const QUERY_KEYS = fc.constantFrom('filters', 't', 'signal', 'force', 'all', 'stdout', 'stderr', 'follow', 'name', 'v', 'condition', 'tail');

const query = fc.array(fc.tuple(mostly(QUERY_KEYS, text), mostly(QUERY_VALUES, fc.oneof(text, ref('network')))), { maxLength: 3 });

/** The pool a route's {id} names: /networks/{id}, /containers/{id} (a running one to exec in), /exec/{id}. */
const poolOf = (pattern: string): Pool => (pattern.startsWith('/networks') ? 'network' : pattern.startsWith('/exec') ? 'exec' : pattern.endsWith('/exec') ? 'running' : 'container');

/** A path parameter: mostly something the daemon has, else a name of something else, a traversal, garbage. */
const segment = (pattern: string): fc.Arbitrary<unknown> =>
  mostly(ref(poolOf(pattern)), fc.oneof(fc.constantFrom('bridge', 'host', 'none', '..', '.', '%2e%2e', '%2F', '%', '%zz', '', 'a'.repeat(300), 'json', 'create'), ref('network'), ref('container'), text));

/** Mostly encoded as a client would, sometimes sent raw (spaces, '?', '#', unicode in the target) or encoded twice. */
const encoding = mostly(fc.constant('once' as const), fc.constantFrom('raw' as const, 'twice' as const));

interface Request {
  method: string;
  version: string;
  pattern: string;
  params: unknown[];
  extraSegments: readonly string[];
  encoding: 'once' | 'raw' | 'twice';
  query: Array<[string, string | Ref]>;
  body: Body;
  upgrade: boolean;
}

const request: fc.Arbitrary<Request> = fc.oneof(...ROUTES.map((route) => ({ arbitrary: fc.constant(route), weight: WEIGHTS[route.pattern] ?? 2 }))).chain((route) => {
  const paramCount = route.pattern.split('/').filter((s) => s.startsWith('{')).length;
  return fc.record({
    method: mostly(fc.constant(route.method), fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE')),
    version: mostly(fc.constantFrom('', '/v1.41', '/v1.24'), fc.constantFrom('/v1.99', '/v0.1', '/v1.41/v1.41', '/v1.41/..', '/v1')),
    pattern: fc.constant(route.pattern),
    params: fc.array(segment(route.pattern), { minLength: paramCount, maxLength: paramCount }),
    extraSegments: mostly(fc.constant<string[]>([]), fc.array(fc.oneof(text, fc.constantFrom('..', '%2e%2e', '')), { minLength: 1, maxLength: 3 })),
    encoding,
    query,
    body: body(route.pattern),
    upgrade: mostly(fc.constant(false), fc.constant(true)),
  });
});

function encode(text: string, how: Request['encoding']): string {
  if (how === 'raw') return text;
  let once: string;
  try {
    once = encodeURIComponent(text);
  } catch {
    return text; // a lone surrogate has no percent-encoding: it goes out raw (as U+FFFD)
  }
  return how === 'twice' ? encodeURIComponent(once) : once;
}

function target(req: Request, known: Known): string {
  const params = req.params.map((p) => (p instanceof Ref ? known.resolve(p) : String(p)));
  let i = 0;
  const segments = req.pattern.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? encode(params[i++]!, req.encoding) : s));
  // The event stream ends at its `until` (the first one given counts): in the past, it ends at once.
  const ends = req.pattern === '/events' ? ['until=1'] : [];
  const query = [...ends, ...req.query.map(([k, v]) => `${encode(k, req.encoding)}=${encode(v instanceof Ref ? known.resolve(v) : v, req.encoding)}`)].join('&');
  return `${req.version}/${[...segments, ...req.extraSegments.map((s) => encode(s, req.encoding))].join('/')}${query ? `?${query}` : ''}`;
}

// ---- the test host's state ----

function iptablesState(ns: TestNamespace): string[] {
  // Chains and rules; comments and counters change without meaning anything.
  return ['iptables-save', 'ip6tables-save'].flatMap((tool) =>
    ns
      .run(tool)
      .split('\n')
      .filter((line) => line.startsWith(':') || line.startsWith('-A') || line.startsWith('*'))
      .map((line) => `${tool} ${line.replace(/ \[\d+:\d+\]$/, '')}`),
  );
}

const linkNames = (ns: TestNamespace): string[] => ns.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname).sort();

test('random and hostile requests at every route: never a 5xx, the daemon lives, nothing is left behind', async (t) => {
  const ns = createTestNamespace(t, 'nctl-fz');
  const daemon = await startDaemon(t, { netns: ns.path, args: ['--log-level', 'warn'] });
  const linksBefore = linkNames(ns);
  const iptablesBefore = iptablesState(ns);
  t.deepEqual(linksBefore, ['lo', 'netctl0']);
  const known = new Known(daemon.socketPath);
  await known.refresh();
  let requests = 0;

  const property = fc.asyncProperty(request, async (req) => {
    const url = target(req, known);
    const sent = req.body === undefined ? undefined : 'raw' in req.body ? req.body.raw : serialise(req.body.value, known);
    requests++;
    const reply = await rawHttp(daemon.socketPath, req.method, url, { ...(sent !== undefined ? { body: sent } : {}), headers: req.upgrade ? ['Upgrade: tcp', 'Connection: Upgrade'] : [] }).catch((error: Error) => {
      throw new Error(`${req.method} ${url.slice(0, 300)}: ${error.message}\nbody: ${(sent ?? '').slice(0, 500)}`);
    });
    // The cluster routes of a daemon outside a cluster answer 503 by design (see README, Cluster).
    const notInCluster = reply.status === 503 && /\/cluster(\/|$|\?)/.test(url) && (req.method === 'HEAD' || reply.body.includes('not part of a cluster'));
    // A path that resolves (`..`) to a Docker route netctl does not implement gets that route's deliberate 501.
    const unsupported = reply.status === 501 && reply.body.includes('is not supported by netctl');
    if (reply.status >= 500 && !notInCluster && !unsupported) throw new Error(`${req.method} ${url.slice(0, 300)} answered ${reply.status}: ${reply.body.slice(0, 500)}\nbody: ${(sent ?? '').slice(0, 500)}`);
    await known.note(req, reply.status, reply.body);
    const ping = await rawHttp(daemon.socketPath, 'GET', '/_ping', { timeoutMs: 10_000 }).catch((error: Error) => ({ status: 0, body: error.message }));
    if (ping.status !== 200) throw new Error(`the daemon stopped answering after ${req.method} ${url.slice(0, 300)} (ping: ${ping.status} ${ping.body})\nbody: ${(sent ?? '').slice(0, 500)}\n${daemon.logs().slice(-2000)}`);
  });

  const randomSeed = process.env['NETCTL_FUZZ_SEED'] !== undefined ? Number(process.env['NETCTL_FUZZ_SEED']) : crypto.randomInt(2 ** 31);
  t.log(`seeds: ${FIXED_SEED} (fixed), ${randomSeed} (this run; NETCTL_FUZZ_SEED=${randomSeed} replays it)`);
  for (const seed of [FIXED_SEED, randomSeed]) {
    const details = await fc.check(property, { seed, numRuns: RUNS_PER_PASS, endOnFailure: true, interruptAfterTimeLimit: TIME_PER_PASS_MS, markInterruptAsFailure: false });
    if (details.failed) t.fail(`seed ${seed} (NETCTL_FUZZ_SEED=${seed} replays it), after ${details.numRuns} requests:\n${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance)}`);
    if (details.failed) break;
  }
  t.log(`${requests} requests; made ${known.made.network} networks, ${known.made.container} containers, ${known.made.exec} execs`);

  // Remove what the requests made, through the API.
  const list = async <T>(urlPath: string): Promise<T[]> => JSON.parse((await rawHttp(daemon.socketPath, 'GET', urlPath)).body) as T[];
  for (const container of await list<{ Id: string }>('/containers/json?all=1')) {
    const removed = await rawHttp(daemon.socketPath, 'DELETE', `/containers/${container.Id}?force=1`);
    t.is(removed.status, 204, `removing container ${container.Id}: ${removed.body}`);
  }
  for (const network of await list<{ Id: string; Name: string }>('/networks')) {
    if (['bridge', 'host', 'none'].includes(network.Name)) continue;
    const removed = await rawHttp(daemon.socketPath, 'DELETE', `/networks/${network.Id}`);
    t.is(removed.status, 204, `removing network ${network.Name}: ${removed.body}`);
  }
  const sandboxDir = path.join(daemon.runDir, 'netns');
  t.deepEqual(fs.existsSync(sandboxDir) ? fs.readdirSync(sandboxDir) : [], [], 'sandbox namespaces left under the exec root');
  t.deepEqual(linkNames(ns), linksBefore, 'links left in the test host');
  t.deepEqual(iptablesState(ns), iptablesBefore, 'iptables chains or rules left in the test host');
  t.deepEqual(shimPids((stateDir) => stateDir.startsWith(`${daemon.root}/`)), [], 'container processes left running');
});
