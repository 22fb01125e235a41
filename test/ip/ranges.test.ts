// Subnets no network can use, without root.
import test from 'ava';
import { parsePrefix } from '../../src/ip/address';
import { unusableRangeIn } from '../../src/ip/ranges';

test('subnets inside or over a range the kernel refuses or cannot route name that range', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['ff05::/64', /IPv6 multicast range \(ff00::\/8\)/],
    ['fe00::/7', /IPv6 link-local range|IPv6 multicast range/],
    ['fe80::/64', /IPv6 link-local range \(fe80::\/10\)/],
    ['::/64', /IPv6 unspecified and loopback addresses \(::\/127\)/],
    ['::1/128', /IPv6 unspecified and loopback/],
    ['::/0', /IPv6 unspecified and loopback/],
    ['224.1.0.0/24', /IPv4 multicast range \(224\.0\.0\.0\/4\)/],
    ['239.255.255.0/24', /IPv4 multicast range/],
    ['127.5.0.0/16', /IPv4 loopback range \(127\.0\.0\.0\/8\)/],
    ['0.0.0.0/8', /IPv4 "this network" range \(0\.0\.0\.0\/8\)/],
    ['0.0.0.0/0', /IPv4 "this network" range/],
  ];
  for (const [subnet, what] of cases) t.regex(unusableRangeIn(parsePrefix(subnet)) ?? 'none', what, subnet);
});

test('unicast ranges pass, link-local IPv4 and the reserved 240/4 included (the kernel routes them)', (t) => {
  for (const subnet of ['10.0.0.0/8', '172.17.0.0/16', '192.168.1.0/24', '169.254.5.0/24', '240.0.0.0/24', '255.255.255.0/24', '1.0.0.0/8', '223.255.255.0/24', 'fd00::/8', '2001:db8::/64', '::2/127', '::ffff:0:0/96', 'fe00::/9', 'fec0::/10']) {
    t.is(unusableRangeIn(parsePrefix(subnet)), undefined, subnet);
  }
});
