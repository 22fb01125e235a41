import test from 'ava';
import { parseReference, tagged } from '../../src/images/reference';

test('names take latest as their tag; Docker Hub prefixes are dropped; registries and paths stay', (t) => {
  t.deepEqual(parseReference('busybox'), { name: 'busybox', tag: 'latest' });
  t.deepEqual(parseReference('myimg:v1.2-rc_3'), { name: 'myimg', tag: 'v1.2-rc_3' });
  t.is(tagged(parseReference('docker.io/library/busybox')), 'busybox:latest');
  t.is(tagged(parseReference('library/busybox:1')), 'busybox:1');
  t.is(tagged(parseReference('docker.io/me/app')), 'me/app:latest');
  t.is(tagged(parseReference('registry.example.com:5000/team/app:2')), 'registry.example.com:5000/team/app:2');
  t.is(tagged(parseReference('localhost/app')), 'localhost/app:latest');
  t.is(tagged(parseReference('a__b.c-d/e')), 'a__b.c-d/e:latest');
});

test("what is no name gets Docker's messages", (t) => {
  t.throws(() => parseReference('UPPER'), { message: 'invalid reference format: repository name must be lowercase' });
  t.throws(() => parseReference('bad:name:x'), { message: 'invalid reference format' });
  t.throws(() => parseReference(''), { message: 'invalid reference format' });
  t.throws(() => parseReference('-lead'), { message: 'invalid reference format' });
  t.throws(() => parseReference('a:' + 't'.repeat(129)), { message: 'invalid reference format' });
  t.throws(() => parseReference('app@sha256:abcd'), { message: /no image digests/ });
  t.throws(() => parseReference('a'.repeat(256)), { message: /must not be more than 255 characters/ });
});
