import test from 'ava';
import { UsageError } from '../../src/cli/args';
import { inspectJson, renderTemplate, table } from '../../src/cli/format';
import { ipamConfigs } from '../../src/cli/ipam-flags';

test('tables pad every column but the last to its widest cell plus three spaces, at least ten, as docker does', (t) => {
  t.is(table(['NETWORK ID', 'NAME', 'DRIVER'], [['f6507577935d', 'bridge', 'bridge'], ['86d8aaf93b4f', 'a-longer-name', 'null']]),
    'NETWORK ID     NAME            DRIVER\nf6507577935d   bridge          bridge\n86d8aaf93b4f   a-longer-name   null\n');
  t.is(table(['ID', 'NAME', 'X'], [['a', 'b', 'c']]), 'ID        NAME      X\na         b         c\n');
});

test('inspect JSON is an array indented by four spaces', (t) => {
  t.is(inspectJson([{ Name: 'n' }]), '[\n    {\n        "Name": "n"\n    }\n]\n');
});

test('templates print fields as Go does: nested fields, lists, maps, structs, json and escapes', (t) => {
  const network = { Name: 'web', IPAM: { Driver: 'default', Config: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }] }, Labels: { b: '2', a: '1' }, Empty: null };
  t.is(renderTemplate('{{.Name}}\\t{{.IPAM.Driver}}', network), 'web\tdefault');
  t.is(renderTemplate('{{.IPAM.Config}}', network), '[{10.0.0.0/24 10.0.0.1}]');
  t.is(renderTemplate('{{.Labels}}', network), 'map[a:1 b:2]');
  t.is(renderTemplate('{{json .Labels}}', network), '{"b":"2","a":"1"}');
  t.is(renderTemplate('{{ .Empty }}', network), '<nil>');
  t.is(renderTemplate('{{json .}}', { A: 1 }), '{"A":1}');
  t.throws(() => renderTemplate('{{.Nope}}', network), { instanceOf: UsageError, message: /field "Nope" does not exist/ });
  t.throws(() => renderTemplate('{{range .Labels}}x{{end}}', network), { instanceOf: UsageError, message: /unsupported action/ });
});

test('--gateway, --ip-range and --aux-address go with the subnet that contains them', (t) => {
  t.deepEqual(ipamConfigs(['10.0.0.0/24', 'fd00::/64'], ['fd00::ff', '10.0.0.254'], ['10.0.0.128/25'], ['r=10.0.0.2', 's=fd00::2']), [
    { Subnet: '10.0.0.0/24', IPRange: '10.0.0.128/25', Gateway: '10.0.0.254', AuxiliaryAddresses: { r: '10.0.0.2' } },
    { Subnet: 'fd00::/64', Gateway: 'fd00::ff', AuxiliaryAddresses: { s: 'fd00::2' } },
  ]);
  t.deepEqual(ipamConfigs([], [], [], []), []);
});

test('pairing errors use Docker CLI wording', (t) => {
  const fails = (message: RegExp, ...args: Parameters<typeof ipamConfigs>): void => {
    t.throws(() => ipamConfigs(...args), { instanceOf: UsageError, message });
  };
  fails(/every ip-range or gateway must have a corresponding subnet/, [], ['10.0.0.1'], [], []);
  fails(/no matching subnet for gateway 10\.9\.0\.1/, ['10.0.0.0/24'], ['10.9.0.1'], [], []);
  fails(/no matching subnet for range 10\.9\.0\.0\/25/, ['10.0.0.0/24'], [], ['10.9.0.0/25'], []);
  fails(/no matching subnet for aux-address 10\.9\.0\.3/, ['10.0.0.0/24'], [], [], ['r=10.9.0.3']);
  fails(/cannot configure multiple gateways \(10\.0\.0\.1, 10\.0\.0\.2\) for the same subnet \(10\.0\.0\.0\/24\)/, ['10.0.0.0/24'], ['10.0.0.1', '10.0.0.2'], [], []);
  fails(/cannot configure multiple ranges/, ['10.0.0.0/24'], [], ['10.0.0.0/25', '10.0.0.128/25'], []);
  fails(/multiple overlapping subnet configuration is not supported/, ['10.0.0.0/16', '10.0.1.0/24'], [], [], []);
  fails(/invalid subnet 10\.0\.0\.1\/24: .*host bits/, ['10.0.0.1/24'], [], [], []);
  fails(/invalid gateway nope: not an IP address/, ['10.0.0.0/24'], ['nope'], [], []);
  fails(/invalid aux-address "r": use NAME=IP/, ['10.0.0.0/24'], [], [], ['r']);
});
