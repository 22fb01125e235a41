// The daemon's API: every route on one router. Adding routes touches none of the dependencies, so
// a router built over placeholders lists the routes too (the API fuzz test walks them all).
import type { Controller } from '../controller';
import type { Launcher } from '../launcher';
import { addContainerRoutes } from './containers';
import { addNetworkRoutes } from './networks';
import { Router } from './router';
import { addSystemRoutes } from './system';

export function daemonRouter(controller: Controller, launcher: Launcher, busyboxRoot: () => string, netctlVersion: string): Router {
  const router = new Router();
  addSystemRoutes(router, netctlVersion);
  addNetworkRoutes(router, controller);
  addContainerRoutes(router, controller, launcher, busyboxRoot);
  return router;
}
