// Host names, search domains and resolver options that reach a container's /etc files: what
// passes and what could break a line of those files.
import test from 'ava';
import { isHostname, isResolverOption, isSearchDomain } from '../../src/launcher/host-names';

test('hostnames: RFC 1123 labels of at most 63 characters, 64 in all', (t) => {
  for (const name of ['web', 'WEB-1', 'a.b.c', '0abc', 'a'.repeat(63), `${'a'.repeat(61)}.bc`]) t.true(isHostname(name), name);
  for (const name of ['', 'a\nb', 'a b', 'a_b', '-ab', 'ab-', 'a..b', 'a.', '.a', 'a'.repeat(64), `${'a'.repeat(62)}.bc`, 'ä']) t.false(isHostname(name), JSON.stringify(name));
});

test('search domains: dotted labels, a final dot allowed, "." for none', (t) => {
  for (const domain of ['example.com', 'example.com.', '.', 'a-b.c0', 'a'.repeat(63)]) t.true(isSearchDomain(domain), domain);
  for (const domain of ['a b', 'a\nnameserver 1.2.3.4', 'a_b', '-a.com', 'a..b', '..', 'a'.repeat(64), `${'a.'.repeat(127)}ab`]) t.false(isSearchDomain(domain), JSON.stringify(domain));
});

test('resolver options: one printable word', (t) => {
  for (const option of ['ndots:2', 'rotate', 'edns0', 'timeout:1']) t.true(isResolverOption(option), option);
  for (const option of ['', 'a b', 'ndots:1\nnameserver 1.2.3.4', 'x\ty']) t.false(isResolverOption(option), JSON.stringify(option));
});
