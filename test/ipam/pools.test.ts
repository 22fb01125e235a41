// Choosing pools: Docker's default order, skipping pools in use, host routes and exclusions.
import test from 'ava';
import fc from 'fast-check';
import { formatPrefix, parsePrefix, type Prefix, prefixesOverlap } from '../../src/ip/address';
import { candidatePools, GLOBAL_DEFAULT_POOLS, LOCAL_DEFAULT_POOLS, parseDefaultAddressPool, parseDefaultAddressPools } from '../../src/ipam/defaults';
import { nextDefaultPool } from '../../src/ipam/pools';

const LOCAL_31 = [
  ...[17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31].map((b) => `172.${b}.0.0/16`),
  ...Array.from({ length: 16 }, (_, i) => `192.168.${i * 16}.0/20`),
];

test('the 31 local default pools, exactly and in order', (t) => {
  t.deepEqual([...candidatePools(LOCAL_DEFAULT_POOLS, 4)].map(formatPrefix), LOCAL_31);
  t.deepEqual([...candidatePools(LOCAL_DEFAULT_POOLS, 6)], []);
});

test('the first global default pools: 10.0.0.0/8 in /24s, 65,536 of them', (t) => {
  const all = [...candidatePools(GLOBAL_DEFAULT_POOLS, 4)];
  t.is(all.length, 65_536);
  t.deepEqual(all.slice(0, 3).map(formatPrefix), ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24']);
  t.is(formatPrefix(all[256]!), '10.1.0.0/24');
  t.is(formatPrefix(all.at(-1)!), '10.255.255.0/24');
});

test('the next default pool skips pools in use, host routes and exclusions, whatever their size', (t) => {
  const avoid = (...cidrs: string[]): Prefix[] => cidrs.map((c) => parsePrefix(c));
  const next = (...cidrs: string[]): string | undefined => {
    const p = nextDefaultPool(LOCAL_DEFAULT_POOLS, 4, avoid(...cidrs));
    return p && formatPrefix(p);
  };
  t.is(next(), '172.17.0.0/16');
  t.is(next('172.17.0.0/16'), '172.18.0.0/16');
  t.is(next('172.17.3.4/32'), '172.18.0.0/16'); // a host route inside the pool
  t.is(next('172.16.0.0/12'), '192.168.0.0/20'); // a VPN route over all of 172.16/12
  t.is(next('172.16.0.0/12', '192.168.0.0/19', '192.168.40.0/24'), '192.168.48.0/20');
  t.is(next('0.0.0.0/1', '128.0.0.0/1'), undefined); // everything routed
  t.is(next('0.0.0.0/0'), undefined);
  t.is(next('::/0'), '172.17.0.0/16'); // another family never blocks
  const global = nextDefaultPool(GLOBAL_DEFAULT_POOLS, 4, avoid('10.0.0.0/9', '10.128.0.0/24'));
  t.is(global && formatPrefix(global), '10.128.1.0/24');
});

test('property: the jumping search finds what checking every candidate in order finds', (t) => {
  const templates = parseDefaultAddressPools(['base=10.0.0.0/16,size=24', 'base=10.0.0.0/12,size=20', 'base=192.168.0.0/16,size=20']);
  const every = [...candidatePools(templates, 4)];
  fc.assert(
    fc.property(fc.array(fc.record({ a: fc.integer({ min: 0, max: 255 }), b: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 8, max: 32 }), which: fc.boolean() }), { maxLength: 30 }), (list) => {
      const avoid = list.map(({ a, b, len, which }) => {
        const value = ((which ? (10 << 24) : (192 << 24) | (168 << 16)) | (a << 8) | b) >>> 0;
        return parsePrefix(`${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}/${len}`, true);
      });
      const want = every.find((c) => !avoid.some((x) => prefixesOverlap(x, c)));
      const got = nextDefaultPool(templates, 4, avoid);
      if ((want && formatPrefix(want)) !== (got && formatPrefix(got))) throw new Error(`got ${got && formatPrefix(got)}, want ${want && formatPrefix(want)}`);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('--default-address-pool: base=CIDR,size=N, repeatable, replaces the defaults', (t) => {
  const list = parseDefaultAddressPools(['base=10.10.0.0/16,size=24', 'base=fd00:1::/48,size=64']);
  t.deepEqual([...candidatePools(list, 4)].slice(0, 2).map(formatPrefix), ['10.10.0.0/24', '10.10.1.0/24']);
  t.deepEqual([...candidatePools(list, 6)].slice(0, 2).map(formatPrefix), ['fd00:1::/64', 'fd00:1:0:1::/64']);
  t.is(parseDefaultAddressPool('size=20,base=172.80.0.0/12').size, 20);
  t.throws(() => parseDefaultAddressPool('base=10.10.0.0/16,size=24,extra=1'), { message: /needs exactly base=CIDR and size=N/ });
  t.throws(() => parseDefaultAddressPool('base=10.10.0.0/16,size=33'), { message: /size must be a prefix length from 16 .* to 32/ });
  t.throws(() => parseDefaultAddressPool('base=10.10.0.0/16,size=abc'), { message: /size must be/ });
  t.throws(() => parseDefaultAddressPool('base=10.10.0.0/16,size=24,size=25'), { message: /use base=CIDR,size=N/ });
});
