// One error class per IPAM rule; every message names the value, the rule and what to do.

export class IpamError extends Error {
  override readonly name: string = 'IpamError';
}

export class InvalidRequestError extends IpamError {
  override readonly name = 'InvalidRequestError';
}

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

export class NoDefaultPoolError extends IpamError {
  override readonly name = 'NoDefaultPoolError';
  constructor(version: 4 | 6) {
    super(
      version === 4
        ? 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network; remove unused networks or configure more pools with --default-address-pool'
        : 'no default IPv6 pool is configured: pass an IPv6 subnet explicitly (e.g. --subnet fd00:1::/64) or add one with --default-address-pool',
    );
  }
}

export class UnknownPoolError extends IpamError {
  override readonly name = 'UnknownPoolError';
  constructor(readonly poolId: string) {
    super(`unknown pool ID "${poolId}": it was never requested or was released`);
  }
}

export class PoolInUseError extends IpamError {
  override readonly name = 'PoolInUseError';
  constructor(
    readonly poolId: string,
    readonly inUse: number,
  ) {
    super(`pool ${poolId} still has ${inUse} address(es) in use; release them first (or remove the network, which forces the release)`);
  }
}

export class AddressOutOfRangeError extends IpamError {
  override readonly name = 'AddressOutOfRangeError';
  constructor(
    readonly address: string,
    readonly pool: string,
    what = 'address',
  ) {
    super(`${what} ${address} is not inside pool ${pool}; pick an address of that subnet`);
  }
}

export class AddressInUseError extends IpamError {
  override readonly name = 'AddressInUseError';
  constructor(
    readonly address: string,
    readonly pool: string,
  ) {
    super(`address ${address} is already in use in pool ${pool}; pick another or let netctl choose`);
  }
}

export class ReservedAddressError extends IpamError {
  override readonly name = 'ReservedAddressError';
  constructor(
    readonly address: string,
    readonly pool: string,
    why: string,
  ) {
    super(`address ${address} of pool ${pool} cannot be assigned: it is the ${why}`);
  }
}

export class PoolExhaustedError extends IpamError {
  override readonly name = 'PoolExhaustedError';
  constructor(readonly range: string) {
    super(`no available addresses in ${range}; release some or use a larger subnet or --ip-range`);
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
