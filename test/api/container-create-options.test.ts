// Create options docker-compose sends for common service keys: StopTimeout (stop_grace_period) and
// MacAddress (mac_address) are kept; the ones netctl does not implement are a 400 naming them, never dropped.
import test from 'ava';
import { parseContainerCreate } from '../../src/api/container-json';
import { ApiError } from '../../src/api/errors';

const parse = (body: Record<string, unknown>): ReturnType<typeof parseContainerCreate> => parseContainerCreate({ Cmd: ['true'], ...body }, undefined, () => '/rootfs');

test('StopTimeout is kept as the container\'s stop timeout; absent or null, none', (t) => {
  t.is(parse({ StopTimeout: 3 }).stopTimeout, 3);
  t.is(parse({ StopTimeout: -1 }).stopTimeout, -1);
  t.false('stopTimeout' in parse({}));
  t.false('stopTimeout' in parse({ StopTimeout: null }));
  const error = t.throws(() => parse({ StopTimeout: '3' }), { instanceOf: ApiError, message: /StopTimeout must be a whole number of seconds/ });
  t.is(error?.status, 400);
  t.throws(() => parse({ StopTimeout: 1.5 }), { instanceOf: ApiError });
});

test('MacAddress is kept for the create network\'s endpoint; empty, none', (t) => {
  t.is(parse({ MacAddress: '02:42:ac:11:00:99' }).mac, '02:42:ac:11:00:99');
  t.false('mac' in parse({ MacAddress: '' }));
  t.throws(() => parse({ MacAddress: 7 }), { instanceOf: ApiError, message: /MacAddress must be a string/ });
});

test('domainname, init, shm_size, -P, link-local addresses and another container\'s network namespace are refused with the option named', (t) => {
  for (const [body, message] of [
    [{ NetworkingConfig: { EndpointsConfig: { n: { IPAMConfig: { LinkLocalIPs: ['169.254.8.8'] } } } } }, /^IPAMConfig\.LinkLocalIPs \(--link-local-ip\) is not supported by netctl/],
    [{ HostConfig: { NetworkMode: 'container:web' } }, /^HostConfig\.NetworkMode "container:web" \(--network container:, docker-compose's network_mode: service:\) is not supported by netctl: .*user-defined network instead$/],
    [{ Domainname: 'example.org' }, /^Domainname \(--domainname\) is not supported by netctl: run the container without it$/],
    [{ HostConfig: { Init: true } }, /^HostConfig\.Init \(--init\) is not supported by netctl/],
    [{ HostConfig: { ShmSize: 134217728 } }, /^HostConfig\.ShmSize \(--shm-size\) is not supported by netctl/],
    [{ HostConfig: { PublishAllPorts: true } }, /^HostConfig\.PublishAllPorts \(-P\) is not supported by netctl/],
  ] as const) {
    const error = t.throws(() => parse(body), { instanceOf: ApiError, message });
    t.is(error?.status, 400);
  }
  // What Docker's CLI and docker-compose send when the options are not given.
  t.notThrows(() => parse({ Domainname: '', MacAddress: '', HostConfig: { Init: null, ShmSize: 0, PublishAllPorts: false }, NetworkingConfig: { EndpointsConfig: { n: { IPAMConfig: { LinkLocalIPs: [] } } } } }));
});
