// Docker Engine API paths netctl does not implement, that Docker's CLI and docker-compose call: a
// 501 that says so and why, where a bare 404 "page not found" would read as a wrong name or path.
import { ApiError } from './errors';
import type { Router } from './router';

const NO_CGROUPS = 'netctl puts containers in no cgroup of their own';
const NO_VOLUMES = 'netctl has no volumes; a container writes to an overlay of its image that goes with it';
const NO_BUILDS = 'netctl runs root file system tarballs: build the image elsewhere and docker import it';

/** Method, path, what the user asked for (the command that sends it), why not. */
const UNSUPPORTED: ReadonlyArray<[string, string, string, string]> = [
  ['POST', '/containers/{id}/pause', 'pausing a container (docker pause)', NO_CGROUPS],
  ['POST', '/containers/{id}/unpause', 'unpausing a container (docker unpause)', NO_CGROUPS],
  ['POST', '/containers/{id}/update', 'changing a container\'s limits (docker update)', NO_CGROUPS],
  ['GET', '/containers/{id}/stats', 'container statistics (docker stats)', NO_CGROUPS],
  ['GET', '/containers/{id}/export', 'exporting a container (docker export)', 'read its files from the host instead'],
  ['GET', '/containers/{id}/changes', 'a container\'s file changes (docker diff)', 'read its overlay\'s upper directory from the host instead'],
  ['GET', '/containers/{id}/archive', 'copying from a container (docker cp)', 'read its files from the host instead'],
  ['HEAD', '/containers/{id}/archive', 'copying from a container (docker cp)', 'read its files from the host instead'],
  ['PUT', '/containers/{id}/archive', 'copying into a container (docker cp)', 'write its files from the host instead'],
  ['POST', '/commit', 'committing a container to an image (docker commit)', 'tar its root and docker import it instead'],
  ['POST', '/build', 'building an image (docker build)', NO_BUILDS],
  ['POST', '/images/{name*}/push', 'pushing an image (docker push)', 'netctl has no registry client'],
  ['POST', '/images/{name*}/tag', 'tagging an image (docker tag)', 'an image has one name: docker import it again under another'],
  ['GET', '/images/{name*}/history', 'an image\'s history (docker history)', 'an imported image has no layers'],
  ['GET', '/images/{name*}/get', 'saving an image (docker save)', 'tar the image\'s root from the host instead'],
  ['GET', '/images/get', 'saving images (docker save)', 'tar the image\'s root from the host instead'],
  ['POST', '/images/load', 'loading an image archive (docker load)', 'docker import a root file system tarball instead'],
  ['GET', '/system/df', 'disk usage (docker system df)', 'netctl does not measure its images\' and containers\' disk use: see du on its root directory'],
  ['GET', '/volumes', 'volumes (docker volume ls)', NO_VOLUMES],
  ['POST', '/volumes/create', 'volumes (docker volume create, docker-compose volumes)', NO_VOLUMES],
  ['GET', '/volumes/{name}', 'volumes (docker volume inspect)', NO_VOLUMES],
  ['DELETE', '/volumes/{name}', 'volumes (docker volume rm)', NO_VOLUMES],
  ['POST', '/volumes/prune', 'volumes (docker volume prune)', NO_VOLUMES],
];

/** Whether a route answers only this 501, whatever the request (the API fuzz test leaves them out). */
export const isUnsupportedRoute = (method: string, pattern: string): boolean => UNSUPPORTED.some(([m, p]) => m === method && p === pattern);

export function addUnsupportedRoutes(router: Router): void {
  for (const [method, pattern, what, why] of UNSUPPORTED) {
    router.add(method, pattern, () => {
      throw new ApiError(501, `${what} is not supported by netctl: ${why}`);
    });
  }
}
