// The overlay driver's options (`-o KEY=VALUE`), Docker's keys: the network's VNI
// (vxlanid_list, one per subnet in Docker; netctl's overlay has one VXLAN segment per network)
// and its MTU.
import { InvalidOptionError } from '../driver';

export const VXLANID_LIST = 'com.docker.network.driver.overlay.vxlanid_list';
export const MTU = 'com.docker.network.driver.mtu';

const KNOWN = [VXLANID_LIST, MTU];
const MAX_VNI = 0xffffff;

export interface OverlayOptions {
  /** The VNI the user asked for; the allocator picks one when absent. */
  vni: number | undefined;
  /** undefined: underlay MTU − 50 (the VXLAN header's cost). */
  mtu: number | undefined;
}

export function parseOverlayOptions(options: Readonly<Record<string, string>>): OverlayOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new InvalidOptionError(`unknown option "${key}" for driver overlay; known options: ${KNOWN.join(', ')}`);
  }
  return { vni: parseVniList(options[VXLANID_LIST]), mtu: parseMtu(options[MTU]) };
}

function parseVniList(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const items = value.split(',').map((item) => item.trim());
  if (items.length > 1) throw new InvalidOptionError(`invalid ${VXLANID_LIST} "${value}": an overlay network has one VXLAN segment here; give one VNI`);
  const vni = Number(items[0]);
  if (!/^\d+$/.test(items[0]!) || vni < 1 || vni > MAX_VNI) throw new InvalidOptionError(`invalid ${VXLANID_LIST} "${value}": a VNI is an integer from 1 to ${MAX_VNI}`);
  return vni;
}

function parseMtu(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const mtu = Number(value);
  if (!/^\d+$/.test(value.trim()) || mtu < 68 || mtu > 65535) throw new InvalidOptionError(`invalid ${MTU} "${value}": an MTU is an integer from 68 to 65535`);
  return mtu;
}
