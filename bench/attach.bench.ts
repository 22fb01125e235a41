// `npm run bench -- attach`: attaching container namespaces to one bridge network, and detaching
// them: netctl (`POST /networks/{id}/connect` on running containers made with --network none),
// Docker (`network connect` on the same kind of containers), the CNI bridge plugin with
// host-local and netavark (a process per call, in fresh namespaces), each in its own test host.
import { type AttachSetup, last10, measureAttach, reportAgainstPeers, reportRss } from './attach-common';
import { median, report } from './report';

const NETCTL_COUNT = 500;
const PEER_COUNT = 100;

const SETUP: AttachSetup = {
  bench: 'attach',
  hostPrefix: 'ab',
  driver: 'bridge',
  ourCount: NETCTL_COUNT,
  peerCount: PEER_COUNT,
  ourNetwork: { IPAM: { Config: [{ Subnet: '10.93.0.0/16' }] } },
  dockerNetwork: { IPAM: { Config: [{ Subnet: '10.94.0.0/16' }] } },
  peerNames: { cni: 'CNI bridge + host-local (a process per call)', netavark: 'netavark setup/teardown', docker: 'dockerd network connect/disconnect (Engine API)' },
};

export async function run(): Promise<void> {
  const results = await measureAttach(SETUP);
  const { ours } = results;
  reportAgainstPeers(SETUP, results);
  report(SETUP.bench, `attach median, attachments ${NETCTL_COUNT - 9}-${NETCTL_COUNT} (goal ≤ 1.5× the first 10)`, last10(ours.attach), 'ms', 'lower');
  report(SETUP.bench, `detach median, all ${NETCTL_COUNT}`, median(ours.detach), 'ms', 'lower');
  reportRss(SETUP, results);
}
