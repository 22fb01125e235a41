// The overlay driver's -o options, Docker's keys.
import test from 'ava';
import { InvalidOptionError } from '../../../src/drivers/driver';
import { MTU, parseOverlayOptions, VXLANID_LIST } from '../../../src/drivers/overlay/options';

test('defaults: the allocator picks the VNI, the MTU follows the underlay', (t) => {
  t.deepEqual(parseOverlayOptions({}), { vni: undefined, mtu: undefined });
  t.deepEqual(parseOverlayOptions({ [VXLANID_LIST]: '', [MTU]: '' }), { vni: undefined, mtu: undefined });
});

test('a VNI and an MTU as asked', (t) => {
  t.deepEqual(parseOverlayOptions({ [VXLANID_LIST]: '4097', [MTU]: '1400' }), { vni: 4097, mtu: 1400 });
  t.is(parseOverlayOptions({ [VXLANID_LIST]: ' 1 ' }).vni, 1);
  t.is(parseOverlayOptions({ [VXLANID_LIST]: '16777215' }).vni, 16777215);
});

test('bad options are refused with what is allowed', (t) => {
  const refused = (options: Record<string, string>, message: RegExp): void => void t.throws(() => parseOverlayOptions(options), { instanceOf: InvalidOptionError, message });
  refused({ encrypted: '' }, /unknown option "encrypted" for driver overlay; known options: /);
  refused({ [VXLANID_LIST]: '0' }, /from 1 to 16777215/);
  refused({ [VXLANID_LIST]: '16777216' }, /from 1 to 16777215/);
  refused({ [VXLANID_LIST]: 'abc' }, /invalid .*vxlanid_list "abc"/);
  refused({ [VXLANID_LIST]: '-5' }, /from 1 to 16777215/);
  refused({ [VXLANID_LIST]: '4097,4098' }, /give one VNI/);
  refused({ [MTU]: '67' }, /from 68 to 65535/);
  refused({ [MTU]: '1e3' }, /invalid .*mtu "1e3"/);
});
