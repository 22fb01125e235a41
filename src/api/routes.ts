// The daemon's API: every route on one router. Adding routes touches none of the dependencies, so
// a router built over placeholders lists the routes too (the API fuzz test walks them all).
import type { ClusterAgent } from '../cluster/agent';
import type { Controller } from '../controller';
import type { EventBus } from '../events/bus';
import type { ImageStore } from '../images';
import { addClusterRoutes } from './cluster';
import type { Launcher } from '../launcher';
import { addContainerRoutes } from './containers';
import { addEventRoutes } from './events';
import { addImageRoutes } from './images';
import type { EngineInfo } from './info';
import { addNetworkRoutes } from './networks';
import { Router } from './router';
import { addSystemRoutes } from './system';
import { addUnsupportedRoutes } from './unsupported';

export interface DaemonParts {
  controller: Controller;
  launcher: Launcher;
  images: ImageStore;
  events: EventBus;
  engine: EngineInfo;
  /** The daemon's cluster agent; without one the cluster routes answer 503. */
  cluster?: ClusterAgent;
}

export function daemonRouter(parts: DaemonParts): Router {
  const router = new Router();
  addSystemRoutes(router, parts);
  addEventRoutes(router, parts.events);
  addNetworkRoutes(router, parts.controller);
  addContainerRoutes(router, parts.controller, parts.launcher, parts.images, parts.events);
  addImageRoutes(router, parts.images, parts.launcher, parts.engine.version);
  addClusterRoutes(router, parts.cluster, parts.controller);
  addUnsupportedRoutes(router);
  return router;
}
