// `npm run bench -- macvlan`: attach/detach latency as in `attach`, on macvlan networks: netctl's
// macvlan driver against Docker's (dockerd in a test host), the CNI macvlan plugin with host-local
// and netavark, in one run. Goal: at least 10× the fastest peer, and flat from 1 to 200 attachments.
import { execFileSync } from 'node:child_process';
import { type AttachSetup, first10, last10, measureAttach, reportAgainstPeers, reportRss } from './attach-common';
import { MACVLAN_PARENT } from './links';
import { report } from './report';

const NETCTL_COUNT = 200;
const PEER_COUNT = 100;

/**
 * Each test host gets its own parent, a veth pair inside it, so no macvlan ever lands on a real
 * interface. Both ends go up: the parent then has carrier, as an uplink would.
 */
function addParent(host: string): void {
  const ip = (...args: string[]): void => void execFileSync('ip', ['-n', host, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  ip('link', 'add', MACVLAN_PARENT, 'type', 'veth', 'peer', 'name', `${MACVLAN_PARENT}p`);
  ip('link', 'set', MACVLAN_PARENT, 'up');
  ip('link', 'set', `${MACVLAN_PARENT}p`, 'up');
}

const SETUP: AttachSetup = {
  bench: 'macvlan',
  hostPrefix: 'mv',
  driver: 'macvlan',
  ourCount: NETCTL_COUNT,
  peerCount: PEER_COUNT,
  ourNetwork: { Options: { parent: MACVLAN_PARENT }, IPAM: { Config: [{ Subnet: '10.95.0.0/16', Gateway: '10.95.0.1' }] } },
  dockerNetwork: { Options: { parent: MACVLAN_PARENT }, IPAM: { Config: [{ Subnet: '10.96.0.0/16', Gateway: '10.96.0.1' }] } },
  prepareHost: addParent,
  peerNames: { cni: 'CNI macvlan + host-local (a process per call)', netavark: 'netavark macvlan setup/teardown', docker: 'dockerd macvlan network connect/disconnect (Engine API)' },
};

export async function run(): Promise<void> {
  const results = await measureAttach(SETUP);
  const { ours } = results;
  reportAgainstPeers(SETUP, results);
  report(SETUP.bench, `attach median, attachments ${NETCTL_COUNT - 9}-${NETCTL_COUNT} (goal: flat, as fast as the first 10)`, last10(ours.attach), 'ms', 'lower', { name: 'netctl, attachments 1-10 (same run)', value: first10(ours.attach) });
  reportRss(SETUP, results);
}
