// How a container is confined beyond its namespaces, from Docker's HostConfig fields: its
// capabilities (Docker's default set, CapAdd, CapDrop), Privileged, and SecurityOpt's
// no-new-privileges. Checked at create; turned into netctl-shim's options at start and exec.
import fs from 'node:fs';
import { InvalidContainerConfigError } from './errors';
import type { ShimConfinement } from './shim';

/** Capability names by number, as capabilities(7) numbers them. */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default set (its CapEff reads 00000000a80425fb). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP',
  'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** HostConfig's CapAdd, CapDrop (normalized: CAP_ names, or ALL), Privileged and SecurityOpt (as given). */
export interface SecurityConfig {
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  securityOpt: string[];
}

export const DEFAULT_SECURITY: SecurityConfig = { capAdd: [], capDrop: [], privileged: false, securityOpt: [] };

const ALL = 'ALL';
const bit = (name: string): bigint => 1n << BigInt(CAPABILITIES.indexOf(name as (typeof CAPABILITIES)[number]));

/**
 * The capabilities this process may hand on (its bounding set): the shim it starts can give no
 * others. A machine may lack some (a VM without CAP_SYS_RESOURCE), as Docker finds too.
 */
export function heldCapabilities(status = '/proc/self/status'): bigint {
  const match = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(status, 'utf8'));
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

/**
 * CapAdd or CapDrop names as Docker takes them (any case, with or without CAP_, or ALL), as
 * CAP_ names; an unknown one, or one added that `held` lacks, is refused naming it.
 */
export function normalizeCapabilities(names: readonly string[], field: 'CapAdd' | 'CapDrop', held: bigint): string[] {
  return names.map((name) => {
    const upper = name.toUpperCase();
    if (upper === ALL) return ALL;
    const capability = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!(CAPABILITIES as readonly string[]).includes(capability)) {
      throw new InvalidContainerConfigError(`invalid ${field}: unknown capability: "${capability}" (use the names of capabilities(7), with or without CAP_, or ALL)`);
    }
    if (field === 'CapAdd' && (held & bit(capability)) === 0n) {
      throw new InvalidContainerConfigError(`invalid ${field}: capability not supported by your kernel or not available in the current environment: "${capability}" (netctl's daemon does not hold it)`);
    }
    return capability;
  });
}

/** SecurityOpt: no-new-privileges, with :true/:false or =true/=false; whether it is on. Anything else is refused. */
export function noNewPrivileges(options: readonly string[]): boolean {
  let on = false;
  for (const option of options) {
    const match = /^no-new-privileges(?:[:=](true|false))?$/.exec(option);
    if (!match) {
      throw new InvalidContainerConfigError(
        `security option "${option}" is not supported: netctl takes only no-new-privileges[:true|false]; it applies Docker's default seccomp profile itself (--privileged runs without it) and has no AppArmor or SELinux labels`,
      );
    }
    on = match[1] !== 'false';
  }
  return on;
}

/**
 * The container's capability set, as Docker computes it: all that are held when privileged or
 * with CapAdd ALL (less CapDrop); only CapAdd with CapDrop ALL; else the default less CapDrop
 * plus CapAdd.
 */
export function capabilitySet(security: SecurityConfig, held: bigint): bigint {
  const set = (names: readonly string[]): bigint => names.reduce((mask, name) => mask | bit(name), 0n);
  const add = set(security.capAdd.filter((name) => name !== ALL));
  const drop = set(security.capDrop.filter((name) => name !== ALL));
  if (security.privileged) return held;
  if (security.capAdd.includes(ALL)) return held & ~drop;
  if (security.capDrop.includes(ALL)) return add;
  return (set(DEFAULT_CAPABILITIES) & held & ~drop) | add;
}

/** What netctl-shim is told for the container's first process and for each exec. */
export function shimConfinement(security: SecurityConfig, held = heldCapabilities()): ShimConfinement {
  return { capabilities: capabilitySet(security, held), noNewPrivileges: noNewPrivileges(security.securityOpt), privileged: security.privileged };
}
