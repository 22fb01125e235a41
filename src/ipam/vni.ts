// VXLAN network identifiers of the cluster, one per overlay network, kept in the global store
// (key vni/<n> = the network's ID, written create-only) so two hosts never hand out the same one.
// Dynamic ones start at 4096, as Docker's; a requested one (vxlanid_list) is refused when taken.
import { CasConflictError } from '../store/errors';
import type { Store } from '../store/types';
import { InvalidRequestError, IpamContentionError, IpamError } from './errors';

const PREFIX = 'vni/';
/** Docker's first dynamic VNI; those below are left for networks that ask for theirs. */
export const FIRST_DYNAMIC_VNI = 4096;
/** VXLAN's 24 bits. */
export const MAX_VNI = 0xffffff;
const MAX_ATTEMPTS = 64;

/** A requested VNI another network has. */
export class VniInUseError extends IpamError {
  override readonly name = 'VniInUseError';
  constructor(
    readonly vni: number,
    readonly holder: string,
  ) {
    super(`VXLAN ID ${vni} is already in use by network ${holder}; choose another one, or leave it out for the next free one`);
  }
}

export class VniAllocator {
  constructor(private readonly store: Store) {}

  /** The VNI for `networkId`: `requested` (1 to 16777215), or the lowest free one from 4096 up. */
  async allocate(networkId: string, requested?: number): Promise<number> {
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1 || requested > MAX_VNI) throw new InvalidRequestError(`invalid VXLAN ID ${requested}: give a whole number from 1 to ${MAX_VNI}`);
      try {
        await this.store.put(PREFIX + requested, Buffer.from(networkId), 0);
      } catch (error) {
        if (!(error instanceof CasConflictError)) throw error;
        throw new VniInUseError(requested, (await this.store.get(PREFIX + requested))?.value.toString('utf8') ?? '(released meanwhile: retry)');
      }
      return requested;
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const taken = new Set((await this.store.list(PREFIX)).map((entry) => Number(entry.key.slice(PREFIX.length))));
      let vni = FIRST_DYNAMIC_VNI;
      while (taken.has(vni)) vni++;
      if (vni > MAX_VNI) throw new IpamError(`every VXLAN ID from ${FIRST_DYNAMIC_VNI} to ${MAX_VNI} is in use: remove overlay networks first`);
      try {
        await this.store.put(PREFIX + vni, Buffer.from(networkId), 0);
        return vni;
      } catch (error) {
        if (!(error instanceof CasConflictError)) throw error; // another host took it: look again
      }
    }
    throw new IpamContentionError(`could not allocate a VXLAN ID: other hosts took each candidate first during ${MAX_ATTEMPTS} attempts; retry`);
  }

  /** Gives a VNI back; only the network holding it can (a release of one that is not held is no error). */
  async release(vni: number, networkId: string): Promise<void> {
    const entry = await this.store.get(PREFIX + vni);
    if (!entry || entry.value.toString('utf8') !== networkId) return;
    try {
      await this.store.delete(PREFIX + vni, entry.version);
    } catch (error) {
      if (!(error instanceof CasConflictError)) throw error; // released and taken again meanwhile: not ours
    }
  }

  /** The network holding a VNI, if any. */
  async holder(vni: number): Promise<string | undefined> {
    return (await this.store.get(PREFIX + vni))?.value.toString('utf8');
  }
}
