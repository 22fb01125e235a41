// The macvlan driver's options (`-o KEY=VALUE`), Docker's keys: the parent interface, optionally
// with an 802.1q VLAN ID as `IFACE.VID`, and the macvlan mode.
import type { MacvlanMode } from '../../netlink';
import { InvalidOptionError } from '../driver';

export const PARENT = 'parent';
export const MACVLAN_MODE = 'macvlan_mode';

const KNOWN = [PARENT, MACVLAN_MODE];
const MODES: readonly MacvlanMode[] = ['bridge', 'private', 'vepa', 'passthru'];
const DEVICE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export interface ParentOption {
  /** The interface the children hang off, as given (`eth0`, `eth0.10`). */
  name: string;
  /** Present for `IFACE.VID`: the VLAN sub-interface netctl creates when it does not exist. */
  vlan?: { base: string; id: number };
  /**
   * `IFACE.N` with N outside 1-4094: an error only if no interface has that name (an admin's
   * `br.0` is a parent like any other; Docker too uses an existing link before reading a VLAN ID).
   */
  badVlan?: string;
}

export interface MacvlanOptions {
  /** undefined: the network gets a parent of its own, and no way out of the host. */
  parent: ParentOption | undefined;
  mode: MacvlanMode;
}

export function parseMacvlanOptions(options: Readonly<Record<string, string>>): MacvlanOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new InvalidOptionError(`unknown option "${key}" for driver macvlan; known options: ${KNOWN.join(', ')}`);
  }
  const mode = (options[MACVLAN_MODE] ?? 'bridge') as MacvlanMode;
  if (!MODES.includes(mode)) throw new InvalidOptionError(`invalid ${MACVLAN_MODE} "${options[MACVLAN_MODE]}": use bridge, private, vepa or passthru`);
  const parentName = options[PARENT];
  if (parentName === undefined || parentName === '') return { parent: undefined, mode };
  return { parent: parseParent(parentName), mode };
}

function parseParent(name: string): ParentOption {
  if (!DEVICE_NAME.test(name)) throw new InvalidOptionError(`invalid parent "${name}": name a host interface (1 to 15 letters, digits, "_", "." or "-")`);
  const vlan = /^(.+)\.(\d+)$/.exec(name);
  if (!vlan) return { name };
  const id = Number(vlan[2]);
  if (id < 1 || id > 4094) return { name, badVlan: `invalid VLAN ID ${vlan[2]} in parent "${name}": an 802.1q VLAN ID is from 1 to 4094` };
  return { name, vlan: { base: vlan[1]!, id } };
}
