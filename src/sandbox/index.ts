// Sandboxes: containers' network namespaces and their layer-3 configuration.
export { Sandbox, type Family, type StaticRoute } from './sandbox';
