// One error class per IPAM rule, so callers (the daemon API, the IPAM plugin server) branch on
// the class, and every message names the value, the rule broken and what to do instead.
// Input errors extend InvalidRequestError so an API can map them all to "400 bad request".
// Whenever one of these is thrown, nothing changed: not in memory, not in the store.

export class IpamError extends Error {
  override readonly name: string = 'IpamError';
}

/** The request is wrong in itself (malformed, contradictory, unknown option value). */
export class InvalidRequestError extends IpamError {
  override readonly name: string = 'InvalidRequestError';
}

export class InvalidCidrError extends InvalidRequestError {
  override readonly name = 'InvalidCidrError';
  constructor(
    readonly value: string,
    readonly what: string,
    rule: string,
  ) {
    super(`invalid ${what} "${value}": ${rule}`);
  }
}

export class InvalidIpError extends InvalidRequestError {
  override readonly name = 'InvalidIpError';
  constructor(
    readonly value: string,
    readonly what: string,
  ) {
    super(`invalid ${what} "${value}": not an IPv4 or IPv6 address (e.g. 10.1.0.5 or fd00::5)`);
  }
}

export class UnknownAddressSpaceError extends InvalidRequestError {
  override readonly name = 'UnknownAddressSpaceError';
  constructor(
    readonly addressSpace: string,
    hint: string,
  ) {
    super(`address space "${addressSpace}" is not available: ${hint}`);
  }
}

/** --ip-range not inside --subnet (or given without one). */
export class IpRangeError extends InvalidRequestError {
  override readonly name = 'IpRangeError';
  constructor(
    readonly range: string,
    readonly pool: string | undefined,
  ) {
    super(
      pool === undefined
        ? `IP range ${range} needs a subnet to lie in: pass the subnet too`
        : `IP range ${range} is not inside subnet ${pool}; pick a range of that subnet`,
    );
  }
}

/** A static pool that overlaps one already in use in the same address space. */
export class PoolOverlapError extends IpamError {
  override readonly name = 'PoolOverlapError';
  constructor(
    readonly requested: string,
    readonly existing: string,
    readonly addressSpace: string,
  ) {
    super(`pool ${requested} overlaps with pool ${existing} already in use in address space ${addressSpace}; choose a subnet that does not overlap`);
  }
}

/** Every default pool is in use, overlaps a host route or is excluded (Docker's message). */
export class NoDefaultPoolError extends IpamError {
  override readonly name = 'NoDefaultPoolError';
  constructor(readonly version: 4 | 6) {
    super(
      version === 4
        ? 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network; remove unused networks or configure more pools with --default-address-pool'
        : 'could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network; pass an IPv6 subnet explicitly (e.g. --subnet fd00:1::/64) or add one with --default-address-pool',
    );
  }
}

export class UnknownPoolError extends IpamError {
  override readonly name = 'UnknownPoolError';
  constructor(readonly poolId: string) {
    super(`unknown pool ID "${poolId}": it was never requested or was released; request the pool first`);
  }
}

export class PoolInUseError extends IpamError {
  override readonly name = 'PoolInUseError';
  constructor(
    readonly poolId: string,
    readonly inUse: number,
  ) {
    super(`pool ${poolId} still has ${inUse} endpoint address(es) in use; release them first (or remove the network, which forces the release)`);
  }
}

/** An address (or gateway, aux address) outside the pool's subnet. */
export class AddressOutOfRangeError extends InvalidRequestError {
  override readonly name = 'AddressOutOfRangeError';
  constructor(
    readonly address: string,
    readonly pool: string,
    readonly what = 'address',
  ) {
    super(`${what} ${address} is not inside pool ${pool}; pick an address of that subnet`);
  }
}

/** A subnet too small for what was asked of it, e.g. a separate gateway in a /32. */
export class PrefixTooSmallError extends InvalidRequestError {
  override readonly name = 'PrefixTooSmallError';
  constructor(
    readonly pool: string,
    rule: string,
  ) {
    super(`subnet ${pool} is too small: ${rule}`);
  }
}

export class AddressInUseError extends IpamError {
  override readonly name = 'AddressInUseError';
  constructor(
    readonly address: string,
    readonly pool: string,
    /** What holds it, when it is not an endpoint: the gateway, an aux address, a host's spare. */
    holder?: string,
  ) {
    super(`address ${address} is already in use in pool ${pool}${holder ? ` (${holder})` : ''}; pick another or let netctl choose`);
  }
}

/** The network address, IPv4 broadcast or IPv6 subnet-router anycast address. */
export class ReservedAddressError extends InvalidRequestError {
  override readonly name = 'ReservedAddressError';
  constructor(
    readonly address: string,
    readonly pool: string,
    readonly why: string,
  ) {
    super(`address ${address} of pool ${pool} cannot be assigned: it is the ${why}; pick another address`);
  }
}

/** Two aux addresses of one pool under the same name. */
export class AuxNameInUseError extends IpamError {
  override readonly name = 'AuxNameInUseError';
  constructor(
    readonly auxName: string,
    readonly address: string,
    readonly pool: string,
  ) {
    super(`aux address name "${auxName}" is already reserved for ${address} in pool ${pool}; use another name or release that address first`);
  }
}

export class PoolExhaustedError extends IpamError {
  override readonly name = 'PoolExhaustedError';
  constructor(readonly range: string) {
    super(`no available addresses in ${range}; release some, or use a larger subnet or --ip-range`);
  }
}

export class AddressNotAllocatedError extends IpamError {
  override readonly name = 'AddressNotAllocatedError';
  constructor(
    readonly address: string,
    readonly poolId: string,
  ) {
    super(`address ${address} is not allocated in pool ${poolId}; nothing to release`);
  }
}

/** The global store kept changing under a bounded number of attempts (heavy contention). */
export class IpamContentionError extends IpamError {
  override readonly name = 'IpamContentionError';
}
