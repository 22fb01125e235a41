// The embedded DNS at 127.0.0.11 (issue in progress): the names and their scope, and the answer
// to one query. Listeners in the sandboxes and forwarding upstream come next.
export { NameTable, normalize, type NamedEndpoint, type Answer, type Family } from './names';
export { decide, reverseAddress, TTL, type Decision } from './answer';
