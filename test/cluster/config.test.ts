// The pure parts of the cluster settings: --cluster-store values, gossip key files, key ids, and
// the daemon's cluster flags taken together.
import test from 'ava';
import crypto from 'node:crypto';
import { ClusterConfigError, keyId, parseClusterStore, parseGossipKey, parseGossipPort } from '../../src/cluster/config';
import { UsageError } from '../../src/cli/args';
import { parseClusterFlags } from '../../src/cli/cluster-flags';

test('--cluster-store: etcd endpoints become client URLs; "embedded" is its own kind; anything else is refused with the forms', (t) => {
  t.deepEqual(parseClusterStore('etcd://10.0.0.1:2379'), { kind: 'etcd', endpoints: ['http://10.0.0.1:2379'] });
  t.deepEqual(parseClusterStore('etcd://a.example:2379,10.0.0.2:32379,[fd00::1]:2379'), { kind: 'etcd', endpoints: ['http://a.example:2379', 'http://10.0.0.2:32379', 'http://[fd00::1]:2379'] });
  t.deepEqual(parseClusterStore('embedded'), { kind: 'embedded' });
  for (const bad of ['', 'etcd://', 'etcd://host', 'etcd://host:0', 'etcd://host:65536', 'etcd://a:1,', 'http://10.0.0.1:2379', 'consul://x:8500', 'etcd://a b:1']) {
    const error = t.throws(() => parseClusterStore(bad), { instanceOf: ClusterConfigError }, bad);
    t.regex(error.message, /use etcd:\/\/HOST:PORT\[,HOST:PORT\.\.\.\] \(e\.g\. etcd:\/\/10\.0\.0\.1:2379\) or "embedded"/);
  }
});

test('--gossip-port takes 1 to 65535 only', (t) => {
  t.is(parseGossipPort('7946'), 7946);
  for (const bad of ['0', '65536', '-1', '79.5', 'x', '']) t.throws(() => parseGossipPort(bad), { instanceOf: ClusterConfigError, message: /between 1 and 65535/ });
});

test('a key file holds 32 raw bytes or their base64 (whitespace around allowed); other contents say which formats are taken', (t) => {
  const key = crypto.randomBytes(32);
  t.deepEqual(parseGossipKey(key, 'k'), key);
  t.deepEqual(parseGossipKey(Buffer.from(`${key.toString('base64')}\n`), 'k'), key);
  t.deepEqual(parseGossipKey(Buffer.from(`  ${key.toString('base64')}  \r\n`), 'k'), key);
  // 32 raw bytes that happen to be printable base64 text are still the raw key.
  const printable = Buffer.from('A'.repeat(32));
  t.deepEqual(parseGossipKey(printable, 'k'), printable);
  t.throws(() => parseGossipKey(Buffer.from(crypto.randomBytes(16).toString('base64')), '/etc/k'), { message: /gossip key \/etc\/k is base64 of 16 bytes: a key is 32 bytes/ });
  t.throws(() => parseGossipKey(crypto.randomBytes(31), '/etc/k'), { message: /holds 31 bytes that are neither 32 raw bytes nor their base64/ });
  t.throws(() => parseGossipKey(Buffer.alloc(0), 'k'), { message: /holds 0 bytes/ });
  t.throws(() => parseGossipKey(Buffer.from('not base64 at all!'), 'k'), { instanceOf: ClusterConfigError });
});

test('key ids are 12 hex digits of the key\'s SHA-256: stable, distinct, not the key', (t) => {
  const key = crypto.randomBytes(32);
  t.regex(keyId(key), /^[0-9a-f]{12}$/);
  t.is(keyId(key), keyId(Buffer.from(key)));
  t.not(keyId(key), keyId(crypto.randomBytes(32)));
  t.false(key.toString('hex').includes(keyId(key)));
});

test('cluster flags: none is no cluster; store and advertise address come together; the others need them', (t) => {
  const key = crypto.randomBytes(32);
  const files: Record<string, Buffer> = { '/k': Buffer.from(key.toString('base64')), '/short': Buffer.alloc(5) };
  const read = (file: string): Buffer => {
    const content = files[file];
    if (!content) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
    return content;
  };
  const parse = (flags: Parameters<typeof parseClusterFlags>[0]) => parseClusterFlags(flags, read, () => 'host-1');
  t.is(parse({}), undefined);
  t.deepEqual(parse({ 'cluster-store': 'etcd://10.0.0.1:2379', 'advertise-addr': 'eth0' }), {
    store: { kind: 'etcd', endpoints: ['http://10.0.0.1:2379'] },
    advertise: 'eth0',
    gossipPort: 7946,
    nodeName: 'host-1',
  });
  t.deepEqual(parse({ 'cluster-store': 'embedded', 'advertise-addr': '10.0.0.1', 'gossip-port': '8000', 'gossip-key': '/k', 'node-name': 'n1' }), {
    store: { kind: 'embedded' },
    advertise: '10.0.0.1',
    gossipPort: 8000,
    nodeName: 'n1',
    key,
  });
  const refused: [Parameters<typeof parseClusterFlags>[0], RegExp][] = [
    [{ 'cluster-store': 'embedded' }, /--cluster-store needs --advertise-addr/],
    [{ 'advertise-addr': '10.0.0.1' }, /--advertise-addr needs --cluster-store/],
    [{ 'gossip-key': '/k' }, /--gossip-key needs a cluster/],
    [{ 'node-name': 'n' }, /--node-name needs a cluster/],
    [{ 'cluster-store': 'embedded', 'advertise-addr': 'eth0', 'gossip-key': '/short' }, /gossip key \/short holds 5 bytes/],
    [{ 'cluster-store': 'embedded', 'advertise-addr': 'eth0', 'gossip-key': '/missing' }, /cannot read --gossip-key \/missing: ENOENT/],
    [{ 'cluster-store': 'embedded', 'advertise-addr': 'eth0', 'node-name': 'a b' }, /invalid --node-name "a b"/],
    [{ 'cluster-store': 'embedded', 'advertise-addr': 'eth0', 'gossip-port': '0' }, /invalid --gossip-port "0"/],
  ];
  for (const [flags, message] of refused) t.throws(() => parse(flags), { instanceOf: UsageError, message }, JSON.stringify(flags));
});
