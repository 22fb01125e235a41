// The bridge driver's options (`-o KEY=VALUE`), Docker's keys and defaults, parsed once and
// refused with the reason when a value cannot work.
import net from 'node:net';
import { InvalidOptionError } from '../driver';

export const BRIDGE_NAME = 'com.docker.network.bridge.name';
export const ENABLE_IP_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
export const ENABLE_ICC = 'com.docker.network.bridge.enable_icc';
export const HOST_BINDING_IPV4 = 'com.docker.network.bridge.host_binding_ipv4';
export const DEFAULT_BRIDGE = 'com.docker.network.bridge.default_bridge';
export const DRIVER_MTU = 'com.docker.network.driver.mtu';
export const CONTAINER_IFACE_PREFIX = 'com.docker.network.container_iface_prefix';
export const INHIBIT_IPV4 = 'com.docker.network.bridge.inhibit_ipv4';

const KNOWN = [BRIDGE_NAME, ENABLE_IP_MASQUERADE, ENABLE_ICC, HOST_BINDING_IPV4, DEFAULT_BRIDGE, DRIVER_MTU, CONTAINER_IFACE_PREFIX, INHIBIT_IPV4];

export interface BridgeOptions {
  /**
   * The Linux bridge device; undefined: br-<first 12 hex of the network ID>. A bridge of that name
   * that netctl did not make (an admin's, maybe with an uplink) is used as it is, and kept.
   */
  bridgeName: string | undefined;
  /** No IPv4 gateway address on the bridge: the gateway is a router elsewhere on the bridge's segment. */
  inhibitIpv4: boolean;
  masquerade: boolean;
  icc: boolean;
  hostBindingIpv4: string | undefined;
  defaultBridge: boolean;
  /** undefined: the kernel's default (1500). */
  mtu: number | undefined;
  containerIfacePrefix: string;
}

/** Go's strconv.ParseBool, which Docker uses for these options. */
function parseBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new InvalidOptionError(`invalid value "${value}" for option ${key}: use true or false`);
}

const DEVICE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function parseBridgeOptions(options: Readonly<Record<string, string>>): BridgeOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new InvalidOptionError(`unknown option "${key}" for driver bridge; known options: ${KNOWN.join(', ')}`);
  }
  const get = (key: string): string | undefined => options[key];
  const bridgeName = get(BRIDGE_NAME);
  if (bridgeName !== undefined && !DEVICE_NAME.test(bridgeName)) {
    throw new InvalidOptionError(`invalid bridge name "${bridgeName}" (${BRIDGE_NAME}): use 1 to 15 letters, digits, "_", "." or "-"`);
  }
  const hostBinding = get(HOST_BINDING_IPV4);
  if (hostBinding !== undefined && !net.isIPv4(hostBinding)) {
    throw new InvalidOptionError(`invalid value "${hostBinding}" for option ${HOST_BINDING_IPV4}: use an IPv4 address such as 0.0.0.0`);
  }
  const mtuText = get(DRIVER_MTU);
  let mtu: number | undefined;
  if (mtuText !== undefined && mtuText !== '0') {
    mtu = Number(mtuText);
    if (!/^\d+$/.test(mtuText) || mtu < 68 || mtu > 65535) throw new InvalidOptionError(`invalid MTU "${mtuText}" (${DRIVER_MTU}): use an integer from 68 to 65535`);
  }
  const prefix = get(CONTAINER_IFACE_PREFIX) ?? 'eth';
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,9}$/.test(prefix)) {
    throw new InvalidOptionError(`invalid interface prefix "${prefix}" (${CONTAINER_IFACE_PREFIX}): use 1 to 10 letters, digits, "_" or "-", starting with a letter`);
  }
  const flag = (key: string, fallback: boolean): boolean => {
    const value = get(key);
    return value === undefined ? fallback : parseBool(key, value);
  };
  return {
    bridgeName,
    masquerade: flag(ENABLE_IP_MASQUERADE, true),
    icc: flag(ENABLE_ICC, true),
    hostBindingIpv4: hostBinding === '0.0.0.0' ? undefined : hostBinding,
    defaultBridge: flag(DEFAULT_BRIDGE, false),
    inhibitIpv4: flag(INHIBIT_IPV4, false),
    mtu,
    containerIfacePrefix: prefix,
  };
}

/**
 * The bridge name options ask for, unchecked: for taking away a network whose stored options no
 * longer parse. Only links netctl marked as its own are ever deleted by that name.
 */
export function requestedBridgeName(networkId: string, options: Readonly<Record<string, string>>): string {
  return options[BRIDGE_NAME] ?? `br-${networkId.slice(0, 12)}`;
}

/** The device name of a network's bridge. */
export function bridgeNameOf(networkId: string, options: BridgeOptions): string {
  return options.bridgeName ?? `br-${networkId.slice(0, 12)}`;
}
