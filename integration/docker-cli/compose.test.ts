// docker-compose 1.29 (Debian's, Python) against netctl's socket: a project of busybox services on
// two networks, one internal, one with a subnet, a static address and aliases, brought up, used
// and brought down, leaving the test host as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { runner } from '../helpers/cli';
import { dockerAgainst } from '../helpers/docker-cli';
import type { TestNamespace } from '../helpers/netns';

const COMPOSE = '/usr/bin/docker-compose';
const hasCompose = fs.existsSync(COMPOSE);
const skipped = hasCompose ? '' : ` [skipped: ${COMPOSE} is missing: scripts/setup.sh installs it (Debian's docker-compose)]`;

// web serves a page on the front network at a static address and MAC, also known as www; store
// is on the internal back network only, also known as db; client is on both.
const PROJECT = `
version: "2.4"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /www && echo hello-from-web > /www/index.html && echo web-ready && exec httpd -f -p 8080 -h /www'
    mac_address: 02:42:0a:5d:00:99
    stop_grace_period: 1s
    networks:
      front:
        ipv4_address: 10.93.0.10
        aliases: [www]
  store:
    image: busybox
    command: sh -c 'echo store-ready && exec sleep 300'
    networks:
      back:
        aliases: [db]
  client:
    image: busybox
    command: sleep 300
    networks: [front, back]
networks:
  front:
    ipam:
      config:
        - subnet: 10.93.0.0/24
  back:
    internal: true
`;

/** A compose project in its own directory, against a netctl daemon in a fresh test host. */
async function composeAgainstNetctl(t: ExecutionContext, prefix: string) {
  const docker = await dockerAgainst(t, prefix);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-compose-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), PROJECT);
  // DOCKER_CONFIG: compose's `exec` runs Docker's CLI, which must not touch root's own config.
  const compose = runner([COMPOSE, '--project-directory', dir, '-f', path.join(dir, 'docker-compose.yml'), '-p', 'shop'], { DOCKER_HOST: `unix://${docker.daemon.socketPath}`, DOCKER_CONFIG: dir }, 120_000);
  // A project left up by a failed test goes before the daemon does.
  t.teardown(() => compose(['down', '-t', '1']).then(() => undefined));
  const composeOk = async (args: string[]): Promise<string> => {
    const result = await compose(args);
    t.is(result.code, 0, `docker-compose ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  return { ...docker, compose, composeOk };
}

/** What a project may leave in the test host: links, routes and firewall rules (packet counters dropped). */
function hostState(host: TestNamespace): { links: string[]; routes: string[]; rules: string[] } {
  return {
    links: host.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname).sort(),
    // Not the link-local routes: the kernel adds the bridge's own whenever its address comes up.
    routes: host.run('ip', 'route', 'show', 'table', 'all').split('\n').filter((r) => !r.includes('fe80::')),
    rules: host.run('iptables-save').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')),
  };
}

/** Fetches `url` from inside `container`, a few times: the server may still be starting. */
async function fetchFrom(ok: (args: string[]) => Promise<string>, docker: (args: string[]) => Promise<{ code: number | null; stdout: string }>, container: string, url: string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const result = await docker(['exec', container, 'timeout', '5', 'wget', '-q', '-O', '-', url]);
    if (result.code === 0) return result.stdout.trim();
    await new Promise((r) => setTimeout(r, 250));
  }
  return ok(['exec', container, 'timeout', '5', 'wget', '-q', '-O', '-', url]);
}

(hasCompose ? test : test.skip)(`docker-compose up -d, a fetch by alias across services, ps, logs, top, down leaving nothing behind${skipped}`, async (t) => {
  const { host, docker, ok, compose, composeOk } = await composeAgainstNetctl(t, 'nctl-cmp');
  const before = hostState(host);
  const networksBefore = await ok(['network', 'ls', '--format', '{{.Name}}']);

  await composeOk(['up', '-d']);
  t.deepEqual((await ok(['ps', '--format', '{{.Names}} {{.Label "com.docker.compose.service"}}'])).split('\n').sort(), ['shop_client_1 client', 'shop_store_1 store', 'shop_web_1 web']);
  t.is(await ok(['inspect', '--format', '{{(index .NetworkSettings.Networks "shop_front").IPAddress}} {{.Config.StopTimeout}}', 'shop_web_1']), '10.93.0.10 1');
  t.is(await ok(['exec', 'shop_web_1', 'cat', '/sys/class/net/eth0/address']), '02:42:0a:5d:00:99');
  t.is(await ok(['network', 'inspect', '--format', '{{.Internal}}', 'shop_back']), 'true');
  t.is(await ok(['network', 'inspect', '--format', '{{.Internal}} {{(index .IPAM.Config 0).Subnet}}', 'shop_front']), 'false 10.93.0.0/24');

  // By the static address's alias on front, by the alias on back; the internal network has no way out.
  t.is(await fetchFrom(ok, docker, 'shop_client_1', 'http://www:8080/'), 'hello-from-web');
  t.regex(await ok(['exec', 'shop_client_1', 'nslookup', 'www']), /Address: 10\.93\.0\.10/);
  await ok(['exec', 'shop_client_1', 'ping', '-c', '1', '-W', '5', 'db']);
  t.notRegex(await ok(['exec', 'shop_store_1', 'ip', 'route']), /default/);
  t.not((await docker(['exec', 'shop_store_1', 'timeout', '5', 'wget', '-q', '-O', '-', 'http://10.93.0.10:8080/'])).code, 0, 'store, on back only, cannot reach web on front');

  const ps = await composeOk(['ps']);
  for (const name of ['shop_client_1', 'shop_store_1', 'shop_web_1']) t.regex(ps, new RegExp(`^${name} .* Up`, 'm'));
  const logs = await composeOk(['logs', '--no-color']);
  t.regex(logs, /^web_1 +\| web-ready$/m);
  t.regex(logs, /^store_1 +\| store-ready$/m);
  t.regex(await composeOk(['top', 'web']), /httpd -f -p 8080 -h \/www/);
  // A second up finds everything as configured.
  const again = await compose(['up', '-d']);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /shop_web_1 is up-to-date/);

  await composeOk(['down', '-t', '1']);
  t.is(await ok(['ps', '-aq']), '');
  t.is(await ok(['network', 'ls', '--format', '{{.Name}}']), networksBefore);
  t.deepEqual(hostState(host), before);
});

// docker-compose exec always asks for stdin (`docker exec -i`, with -T too).
(hasCompose ? test : test.skip)(`docker-compose exec -T runs the command in the service's container${skipped}`, async (t) => {
  const { compose, composeOk } = await composeAgainstNetctl(t, 'nctl-cmx');
  await composeOk(['up', '-d', 'web']);
  const exec = await compose(['exec', '-T', 'web', 'sh', '-c', 'hostname -i; exit 3']);
  t.is(exec.code, 3, exec.stderr);
  t.is(exec.stdout.trim(), '10.93.0.10');
});

// A changed service is recreated: compose stops and renames the old container, then creates the
// new one with the same ipv4_address, free since the old one's stop released it (as dockerd does).
(hasCompose ? test : test.skip)(`docker-compose up -d recreates a changed service that has a static address${skipped}`, async (t) => {
  const { ok, compose, composeOk } = await composeAgainstNetctl(t, 'nctl-cmr');
  await composeOk(['up', '-d', 'web']);
  const first = await ok(['inspect', '--format', '{{.Id}}', 'shop_web_1']);
  const recreated = await compose(['up', '-d', '-t', '1', '--force-recreate', 'web']);
  t.is(recreated.code, 0, recreated.stderr);
  t.not(await ok(['inspect', '--format', '{{.Id}}', 'shop_web_1']), first);
  t.is(await ok(['inspect', '--format', '{{(index .NetworkSettings.Networks "shop_front").IPAddress}} {{.Config.StopTimeout}}', 'shop_web_1']), '10.93.0.10 1');
  t.is(await ok(['exec', 'shop_web_1', 'cat', '/sys/class/net/eth0/address']), '02:42:0a:5d:00:99');
});
