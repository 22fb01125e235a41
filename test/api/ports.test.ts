// Published ports as the CLI's -p flags and the API's PortBindings say them, both ways round.
import test from 'ava';
import { parsePortBindings } from '../../src/api/container-json';
import { ApiError } from '../../src/api/errors';
import { UsageError } from '../../src/cli/args';
import { portBindings } from '../../src/cli/container-command';

test('-p forms become Docker PortBindings', (t) => {
  t.deepEqual(portBindings(['8080:80', '127.0.0.1:5353:53/udp', '9000', '127.0.0.1::443']), {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    '9000/tcp': [{ HostIp: '', HostPort: '' }],
    '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
  });
  for (const bad of ['80:80:80', 'x:80', '80/icmp', '']) t.throws(() => portBindings([bad]), { instanceOf: UsageError, message: /invalid publish/ });
});

test('PortBindings become port mappings; no host port means a free one (0); bad input is a 400', (t) => {
  t.deepEqual(parsePortBindings({ '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }], '53/udp': [{ HostPort: '' }] }), [
    { protocol: 'tcp', hostPort: 8080, containerPort: 80 },
    { protocol: 'tcp', hostPort: 8081, containerPort: 80, hostIp: '127.0.0.1' },
    { protocol: 'udp', hostPort: 0, containerPort: 53 },
  ]);
  t.deepEqual(parsePortBindings(undefined), []);
  for (const bad of [{ '0/tcp': [{ HostPort: '1' }] }, { '80/icmp': [] }, { '80/tcp': [{ HostPort: '70000' }] }, { '80/tcp': [{ HostIp: 'fd00::1', HostPort: '80' }] }, []]) {
    const error = t.throws(() => parsePortBindings(bad));
    t.true(error instanceof ApiError && error.status === 400, JSON.stringify(bad));
  }
});
