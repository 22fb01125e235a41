// A container's capability set and security options as Docker computes and checks them (its
// oci/caps TweakCapabilities and SecurityOpt parsing), without a kernel.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capabilitySet, DEFAULT_SECURITY, heldCapabilities, noNewPrivileges, normalizeCapabilities, type SecurityConfig } from '../../src/launcher/confinement';
import { InvalidContainerConfigError } from '../../src/launcher/errors';

/** Every capability up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE (24), as a VM may hold. */
const HELD = ((1n << 41n) - 1n) & ~(1n << 24n);
const security = (overrides: Partial<SecurityConfig>): SecurityConfig => ({ ...DEFAULT_SECURITY, ...overrides });
const hex = (mask: bigint): string => mask.toString(16);

test("the default set is Docker's (CapEff 00000000a80425fb)", (t) => {
  t.is(hex(capabilitySet(DEFAULT_SECURITY, HELD)), 'a80425fb');
});

test('CapAdd and CapDrop: added to and taken from the default; ALL in either', (t) => {
  t.is(hex(capabilitySet(security({ capAdd: ['CAP_NET_ADMIN'] }), HELD)), 'a80435fb');
  t.is(hex(capabilitySet(security({ capDrop: ['CAP_NET_RAW', 'CAP_CHOWN'] }), HELD)), 'a80405fa');
  t.is(capabilitySet(security({ capDrop: ['ALL'] }), HELD), 0n);
  t.is(capabilitySet(security({ capDrop: ['ALL'], capAdd: ['CAP_CHOWN'] }), HELD), 1n);
  t.is(capabilitySet(security({ capAdd: ['ALL'], capDrop: ['CAP_SYS_ADMIN'] }), HELD), HELD & ~(1n << 21n));
});

test('privileged: all the daemon holds, whatever CapAdd and CapDrop say (as Docker)', (t) => {
  t.is(capabilitySet(security({ privileged: true, capDrop: ['ALL'] }), HELD), HELD);
});

test('default capabilities the daemon lacks are left out rather than failing the start', (t) => {
  t.is(hex(capabilitySet(DEFAULT_SECURITY, HELD & ~(1n << 13n))), 'a80405fb');
});

test('names: any case, with or without CAP_, or ALL; unknown ones and ones added that the daemon lacks are refused naming them', (t) => {
  t.deepEqual(normalizeCapabilities(['net_admin', 'CAP_SYS_TIME', 'all', 'Cap_Chown'], 'CapAdd', HELD), ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'ALL', 'CAP_CHOWN']);
  t.throws(() => normalizeCapabilities(['NOPE'], 'CapAdd', HELD), { instanceOf: InvalidContainerConfigError, message: /^invalid CapAdd: unknown capability: "CAP_NOPE"/ });
  t.throws(() => normalizeCapabilities(['cap_nope'], 'CapDrop', HELD), { message: /^invalid CapDrop: unknown capability: "CAP_NOPE"/ });
  t.throws(() => normalizeCapabilities(['SYS_RESOURCE'], 'CapAdd', HELD), { message: /not available in the current environment: "CAP_SYS_RESOURCE"/ });
  t.deepEqual(normalizeCapabilities(['SYS_RESOURCE'], 'CapDrop', HELD), ['CAP_SYS_RESOURCE'], 'dropping one that is not held is no error');
});

test('SecurityOpt: no-new-privileges in its forms, the last one winning; anything else refused', (t) => {
  t.false(noNewPrivileges([]));
  for (const on of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']) t.true(noNewPrivileges([on]), on);
  t.false(noNewPrivileges(['no-new-privileges', 'no-new-privileges:false']));
  for (const other of ['seccomp=unconfined', 'seccomp=/profile.json', 'apparmor=unconfined', 'label=disable', 'no-new-privileges:maybe', 'bogus']) {
    t.throws(() => noNewPrivileges([other]), { instanceOf: InvalidContainerConfigError, message: new RegExp(`^security option "${other.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not supported`) }, other);
  }
});

test('the held set is read from CapBnd', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-caps-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'status'), 'Name:\tnode\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n');
  t.is(heldCapabilities(path.join(dir, 'status')), 0x1fffeffffffn);
});
