// When a sandbox needs a leg on netctl_gwbridge (Docker's needDefaultGW): pure, case by case.
import test from 'ava';
import { GATEWAY_NETWORK, gatewayLegName, isGatewayLeg, type LegCandidate, needsGatewayLeg } from '../../src/controller/gateway-leg';

const overlay = (name = 'web'): LegCandidate => ({ name, networkName: 'ov1', internal: false, hasInterface: true });
const bridge = (): LegCandidate => ({ name: 'web', networkName: 'br1', internal: false, hasInterface: true, gateway4: '172.18.0.1' });
const leg = (): LegCandidate => ({ name: gatewayLegName('0123456789abcdef'), networkName: GATEWAY_NETWORK, internal: false, hasInterface: true, gateway4: '172.19.0.1' });

test('an endpoint without a gateway on a non-internal network needs the leg', (t) => {
  t.true(needsGatewayLeg([overlay()]));
  t.true(needsGatewayLeg([overlay(), overlay('other')]));
  t.true(needsGatewayLeg([overlay(), leg()]), 'the leg itself is not counted as a gateway');
});

test('an endpoint offering a gateway (IPv4 or IPv6) makes the leg unneeded, whichever order', (t) => {
  t.false(needsGatewayLeg([overlay(), bridge()]));
  t.false(needsGatewayLeg([bridge(), overlay(), leg()]));
  t.false(needsGatewayLeg([overlay(), { ...overlay('v6'), gateway6: 'fd00::1' }]));
});

test('internal networks, interface-less endpoints and endpoints declining the gateway service need no leg', (t) => {
  t.false(needsGatewayLeg([]));
  t.false(needsGatewayLeg([{ ...overlay(), internal: true }]));
  t.false(needsGatewayLeg([{ ...overlay(), hasInterface: false }]));
  t.false(needsGatewayLeg([{ ...overlay(), noGatewayService: true }]));
  t.false(needsGatewayLeg([leg()]), 'a leg alone is left over, not needed');
  t.true(needsGatewayLeg([{ ...overlay(), internal: true }, overlay('other')]), 'one non-internal overlay is enough');
});

test('the leg is named gateway_ and the sandbox short ID, on netctl_gwbridge only', (t) => {
  t.is(gatewayLegName('0123456789abcdef0123'), 'gateway_0123456789ab');
  t.true(isGatewayLeg(leg()));
  t.false(isGatewayLeg({ ...leg(), networkName: 'br1' }));
  t.false(isGatewayLeg({ ...leg(), name: 'web' }), 'a container connected to netctl_gwbridge by hand is not the leg');
});
