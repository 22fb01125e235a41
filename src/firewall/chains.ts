// The names of one controller's chains, all derived from its prefix (the daemon's is NETCTL-), so
// controllers sharing a host never touch each other's chains or hooks. Shared chains are hooked
// once from the built-in chains; every network has chains of its own, reached by one jump line,
// so a network's change never rewrites another's.
import { InvalidChainPrefixError } from './errors';

export interface ChainNames {
  /** Jumped first from FORWARD and never written by netctl: the administrator's policy. */
  user: string;
  /** Jumped from FORWARD after user: isolation first, then one jump per network. */
  forward: string;
  /** Stage 1 matches traffic leaving one of the controller's bridges for another interface; stage 2 drops it if that interface is another of its bridges. */
  isolation1: string;
  isolation2: string;
  /** nat: published ports, reached for local destinations from PREROUTING and OUTPUT. */
  dnat: string;
  /** nat: masquerading, reached from POSTROUTING. */
  postrouting: string;
  /** A network's own chains; the ID is cut to 12 characters. */
  network(networkId: string): { filter: string; dnat: string; masquerade: string };
  /** The network ID (12 hex) a filter chain of this prefix belongs to, if it is one. */
  networkOf(chain: string): string | undefined;
}

/** iptables refuses longer chain names. */
const MAX_CHAIN_NAME = 28;
/** The longest suffix: "N-" and 12 characters of a network ID. */
const MAX_SUFFIX = 'N-'.length + 12;
export const MAX_CHAIN_PREFIX = MAX_CHAIN_NAME - MAX_SUFFIX;

/**
 * Letters and digits, then one "-": since a prefix holds no other "-", no chain name of one
 * prefix can also be read as a name of another.
 */
function validateChainPrefix(prefix: string): void {
  if (!new RegExp(`^[A-Za-z0-9]{1,${MAX_CHAIN_PREFIX - 1}}-$`).test(prefix)) {
    throw new InvalidChainPrefixError(prefix, `must be 1 to ${MAX_CHAIN_PREFIX - 1} letters or digits followed by "-" (e.g. NC01ab-), so that every chain name stays within iptables' ${MAX_CHAIN_NAME} characters`);
  }
  // Docker's own chains are DOCKER-USER, DOCKER-FORWARD...: sharing them would mix two engines' rules.
  if (prefix === 'DOCKER-') throw new InvalidChainPrefixError(prefix, "is Docker's: choose a prefix of your own");
}

export function chainNames(prefix: string): ChainNames {
  validateChainPrefix(prefix);
  const networkChain = new RegExp(`^${prefix}N-([0-9a-f]{12})$`);
  return {
    user: `${prefix}USER`,
    forward: `${prefix}FORWARD`,
    isolation1: `${prefix}ISOLATION-1`,
    isolation2: `${prefix}ISOLATION-2`,
    dnat: `${prefix}DNAT`,
    postrouting: `${prefix}POSTROUTING`,
    network: (networkId) => {
      const id = networkId.slice(0, 12);
      return { filter: `${prefix}N-${id}`, dnat: `${prefix}D-${id}`, masquerade: `${prefix}M-${id}` };
    },
    networkOf: (chain) => networkChain.exec(chain)?.[1],
  };
}
