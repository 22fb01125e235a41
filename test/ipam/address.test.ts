// Prefix arithmetic and default pools, without root.
import test from 'ava';
import { bigIntToIp, formatPrefix, InvalidAddressError, ipToBigInt, lastAddress, parsePrefix, prefixesOverlap, prefixSize, prefixWithin, subdivide } from '../../src/ip/address';
import { candidatePools, GLOBAL_DEFAULT_POOLS, LOCAL_DEFAULT_POOLS, parseDefaultAddressPool } from '../../src/ipam/defaults';
import { InvalidRequestError } from '../../src/ipam';

test('prefix edges: /0, /31, /32, /127, /128 and large IPv6 prefixes', (t) => {
  t.is(prefixSize(parsePrefix('0.0.0.0/0')), 1n << 32n);
  t.is(prefixSize(parsePrefix('10.0.0.0/31')), 2n);
  t.is(prefixSize(parsePrefix('10.0.0.7/32')), 1n);
  t.is(prefixSize(parsePrefix('2001:db8::/127')), 2n);
  t.is(prefixSize(parsePrefix('2001:db8::1/128')), 1n);
  t.is(prefixSize(parsePrefix('2001:db8::/64')), 1n << 64n);
  t.is(bigIntToIp(lastAddress(parsePrefix('2001:db8:1::/48')), 6), '2001:db8:1:ffff:ffff:ffff:ffff:ffff');
  t.is(bigIntToIp(lastAddress(parsePrefix('172.20.0.0/14')), 4), '172.23.255.255');
  t.is(formatPrefix(parsePrefix('2001:0db8:0000::/64')), '2001:db8::/64');
});

test('malformed prefixes and host bits are refused with the rule', (t) => {
  t.throws(() => parsePrefix('10.0.0.1/24'), { instanceOf: InvalidAddressError, message: /host bits set; the network is 10\.0\.0\.0\/24/ });
  t.throws(() => parsePrefix('10.0.0.0/33'), { instanceOf: InvalidAddressError, message: /prefix length must be 0 to 32/ });
  t.throws(() => parsePrefix('10.0.0.0'), { instanceOf: InvalidAddressError, message: /CIDR notation/ });
  t.throws(() => parsePrefix('300.0.0.0/8'), { instanceOf: InvalidAddressError, message: /not an IP address/ });
  t.is(parsePrefix('10.0.0.1/24', true).base, ipToBigInt('10.0.0.0').value);
});

test('overlap, containment and subdivision', (t) => {
  const p16 = parsePrefix('10.1.0.0/16');
  t.true(prefixesOverlap(p16, parsePrefix('10.1.200.0/24')));
  t.true(prefixesOverlap(parsePrefix('10.0.0.0/8'), p16));
  t.false(prefixesOverlap(p16, parsePrefix('10.2.0.0/16')));
  t.false(prefixesOverlap(p16, parsePrefix('::/0')));
  t.true(prefixWithin(parsePrefix('10.1.5.0/24'), p16));
  t.false(prefixWithin(p16, parsePrefix('10.1.5.0/24')));
  t.deepEqual(
    [...subdivide(parsePrefix('192.168.0.0/22'), 24)].map(formatPrefix),
    ['192.168.0.0/24', '192.168.1.0/24', '192.168.2.0/24', '192.168.3.0/24'],
  );
});

test("Docker's default pools: 31 local ones in order, then 10.0.0.0/8 in /24s for global", (t) => {
  const local = [...candidatePools(LOCAL_DEFAULT_POOLS, 4)].map(formatPrefix);
  t.is(local.length, 31);
  t.deepEqual(local.slice(0, 4), ['172.17.0.0/16', '172.18.0.0/16', '172.19.0.0/16', '172.20.0.0/16']);
  t.is(local[14], '172.31.0.0/16');
  t.deepEqual(local.slice(15, 17), ['192.168.0.0/20', '192.168.16.0/20']);
  t.is(local[30], '192.168.240.0/20');
  const global = candidatePools(GLOBAL_DEFAULT_POOLS, 4);
  t.deepEqual([global.next().value, global.next().value].map((p) => formatPrefix(p!)), ['10.0.0.0/24', '10.0.1.0/24']);
});

test('--default-address-pool values parse or say what is wrong', (t) => {
  const pool = parseDefaultAddressPool('base=10.10.0.0/16,size=24');
  t.is(formatPrefix(pool.base), '10.10.0.0/16');
  t.is(pool.size, 24);
  t.is(parseDefaultAddressPool(' base = fd00:1::/48 , size = 64 ').size, 64);
  t.throws(() => parseDefaultAddressPool('base=10.10.0.0/16'), { instanceOf: InvalidRequestError, message: /needs exactly base=CIDR and size=N/ });
  t.throws(() => parseDefaultAddressPool('base=10.10.0.0/16,size=8'), { instanceOf: InvalidRequestError, message: /size must be a prefix length from 16/ });
  t.throws(() => parseDefaultAddressPool('base=10.10.0.1/16,size=24'), { instanceOf: InvalidRequestError, message: /host bits/ });
  t.throws(() => parseDefaultAddressPool('10.10.0.0/16'), { instanceOf: InvalidRequestError, message: /use base=CIDR,size=N/ });
});

test('huge IPv6 prefixes: ::/0 and a /48 split into /64s lazily, overlap across sizes', (t) => {
  t.is(prefixSize(parsePrefix('::/0')), 1n << 128n);
  t.is(bigIntToIp(lastAddress(parsePrefix('::/0')), 6), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  const split = subdivide(parsePrefix('2001:db8:aa::/48'), 64);
  t.deepEqual([split.next().value, split.next().value].map((p) => formatPrefix(p!)), ['2001:db8:aa::/64', '2001:db8:aa:1::/64']);
  t.true(prefixesOverlap(parsePrefix('2001:db8::/32'), parsePrefix('2001:db8:aa:1::/64')));
  t.false(prefixesOverlap(parsePrefix('2001:db8:aa::/64'), parsePrefix('2001:db8:aa:1::/64')));
  t.true(prefixesOverlap(parsePrefix('0.0.0.0/0'), parsePrefix('255.255.255.255/32')));
  t.deepEqual([...subdivide(parsePrefix('fd00::/127'), 128)].map(formatPrefix), ['fd00::/128', 'fd00::1/128']);
  t.throws(() => parsePrefix('fd00::/129'), { instanceOf: InvalidAddressError, message: /0 to 128/ });
});
