// The daemon's API: every route on one router. Adding routes touches none of the dependencies, so
// a router built over placeholders lists the routes too (the API fuzz test walks them all).
import type { ClusterAgent } from '../cluster/agent';
import type { Controller } from '../controller';
import { addClusterRoutes } from './cluster';
import type { Launcher } from '../launcher';
import { addContainerRoutes } from './containers';
import { addNetworkRoutes } from './networks';
import { Router } from './router';
import { addSystemRoutes } from './system';

/** `cluster`: the daemon's cluster agent; without one the cluster routes answer 503. */
export function daemonRouter(controller: Controller, launcher: Launcher, busyboxRoot: () => string, netctlVersion: string, cluster?: ClusterAgent): Router {
  const router = new Router();
  addSystemRoutes(router, netctlVersion);
  addNetworkRoutes(router, controller);
  addContainerRoutes(router, controller, launcher, busyboxRoot);
  addClusterRoutes(router, cluster);
  return router;
}
