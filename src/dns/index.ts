// The embedded DNS at 127.0.0.11 (issue in progress): so far the names and their scope.
export { NameTable, normalize, type NamedEndpoint, type Answer, type Family } from './names';
