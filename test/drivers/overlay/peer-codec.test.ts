// The endpoint_table value: what one host publishes and every other decodes.
import test from 'ava';
import { decodeEndpointRecord, encodeEndpointRecord, EndpointRecordError, type EndpointRecord } from '../../../src/drivers/overlay/peer-codec';

const record: EndpointRecord = { endpointId: 'e1', name: 'web', aliases: ['w', 'www'], ipv4: '10.0.0.2/24', ipv6: 'fd00::2/64', mac: '02:42:0a:00:00:02', vtep: '192.168.1.10' };

test('a record survives encoding', (t) => {
  t.deepEqual(decodeEndpointRecord(encodeEndpointRecord(record)), record);
  const v4only: EndpointRecord = { endpointId: 'e2', name: '', aliases: [], ipv4: '10.0.0.3/24', mac: '02:42:0a:00:00:03', vtep: 'fd00:1::1' };
  t.deepEqual(decodeEndpointRecord(encodeEndpointRecord(v4only)), v4only);
});

test('garbage and malformed records are refused with what is wrong', (t) => {
  t.throws(() => decodeEndpointRecord(Buffer.from('not json')), { instanceOf: EndpointRecordError, message: /not JSON/ });
  t.throws(() => decodeEndpointRecord(Buffer.from('null')), { message: /not an object/ });
  const bad = (change: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ ...record, ...change }));
  t.throws(() => decodeEndpointRecord(bad({ endpointId: '' })), { message: /no endpointId/ });
  t.throws(() => decodeEndpointRecord(bad({ mac: '02:42:0A:00:00:02' })), { message: /mac "02:42:0A:00:00:02"/ });
  t.throws(() => decodeEndpointRecord(bad({ vtep: 'host1' })), { message: /vtep "host1"/ });
  t.throws(() => decodeEndpointRecord(bad({ ipv4: '10.0.0.2' })), { message: /ipv4 "10.0.0.2" is not an IPv4 CIDR/ });
  t.throws(() => decodeEndpointRecord(bad({ ipv4: '10.0.0.2/33' })), { message: /ipv4/ });
  t.throws(() => decodeEndpointRecord(bad({ ipv6: '10.0.0.2/24' })), { message: /ipv6/ });
  t.throws(() => decodeEndpointRecord(bad({ aliases: 'w' })), { message: /aliases/ });
  t.throws(() => decodeEndpointRecord(bad({ ipv4: undefined, ipv6: undefined })), { message: /no address/ });
  t.throws(() => encodeEndpointRecord({ ...record, vtep: '' }), { instanceOf: EndpointRecordError });
});
