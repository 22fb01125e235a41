// The embedded DNS at 127.0.0.11 (issue in progress): names and their scope, the answer to one
// query, the per-sandbox listeners and the hedged forwarder. Wiring into containers comes next.
export { NameTable, normalize, type NamedEndpoint, type Answer, type Family } from './names';
export { decide, reverseAddress, TTL, type Decision } from './answer';
export { Forwarder, upstreamsOf, type Upstream, type Transport, type ForwarderOptions } from './forwarder';
export { DnsServer, DNS_ADDRESS, type SandboxScope } from './server';
