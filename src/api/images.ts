// The Docker Engine API's image routes over netctl's image store: list, inspect, import
// (POST /images/create?fromSrc=-, as `docker import`), remove. There is no registry: a pull is
// refused with what to do instead.
import type { Launcher } from '../launcher';
import { type Image, type ImageName, type ImageStore, parseReference } from '../images';
import { ApiError, badRequest } from './errors';
import { type Filters, labelMatches, parseBoolFilter, parseFilters, pruneFilter } from './filters';
import type { Router } from './router';

const truthy = (value: string | null): boolean => value === '1' || value === 'true';
const IMAGE_FILTER_KEYS = ['dangling', 'label', 'reference', 'before', 'since'] as const;
const PRUNE_FILTER_KEYS = ['dangling', 'until', 'label', 'label!'] as const;
const NO_REGISTRY = 'netctl has no registry client: import a root file system tarball instead (docker import FILE NAME[:TAG], or netctl import)';

/** Docker's image JSON fields for a container config: an imported root carries none of them. */
const EMPTY_CONFIG = { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null };

const repoTags = (image: Image): string[] => (image.tags.length > 0 ? image.tags : ['<none>:<none>']);
const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** A list entry; its container count is Docker's -1 (not counted), as dockerd answers without being asked for sizes. */
export function imageListJson(image: Image): Record<string, unknown> {
  return {
    Containers: -1,
    Created: seconds(image.created),
    Id: `sha256:${image.id}`,
    Labels: null,
    ParentId: '',
    RepoDigests: image.tags.length > 0 ? null : ['<none>@<none>'],
    RepoTags: repoTags(image),
    SharedSize: -1,
    Size: image.size,
    VirtualSize: image.size,
  };
}

export function imageInspectJson(image: Image, netctlVersion: string): Record<string, unknown> {
  return {
    Id: `sha256:${image.id}`,
    RepoTags: image.tags,
    RepoDigests: [],
    Parent: '',
    Comment: image.comment,
    Created: image.created,
    Container: '',
    ContainerConfig: EMPTY_CONFIG,
    DockerVersion: `netctl ${netctlVersion}`,
    Author: '',
    Config: EMPTY_CONFIG,
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    Os: 'linux',
    Size: image.size,
    VirtualSize: image.size,
    // netctl's roots are plain directories, each container's writes in an overlay over it.
    GraphDriver: { Name: 'netctl', Data: { RootDir: image.rootfs } },
    RootFS: { Type: 'layers', Layers: [] },
    Metadata: { LastTagTime: image.created },
  };
}

/** Whether `image` passes Docker's image list filters (reference as a glob on name or name:tag). */
export function imageMatches(image: Image, filters: Filters, find: (reference: string) => Image | undefined): boolean {
  const created = (key: 'before' | 'since'): boolean =>
    (filters.get(key) ?? []).every((reference) => {
      const other = find(reference);
      if (!other) throw new ApiError(404, `No such image: ${reference}`);
      return key === 'before' ? image.created < other.created : image.created > other.created;
    });
  const dangling = filters.get('dangling')?.map((v) => parseBoolFilter('dangling', v));
  const references = filters.get('reference');
  return (
    (dangling === undefined || dangling.some((d) => d === (image.tags.length === 0))) &&
    (filters.get('label') ?? []).every((label) => labelMatches({}, label)) &&
    (references === undefined || references.some((pattern) => image.tags.some((tag) => glob(pattern, tag) || glob(pattern, tag.slice(0, tag.lastIndexOf(':')))))) &&
    created('before') &&
    created('since')
  );
}

/** Go's path.Match, as Docker matches a reference filter: `*` and `?` within a segment. */
function glob(pattern: string, text: string): boolean {
  const source = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  try {
    return new RegExp(`^${source}$`).test(text);
  } catch {
    return pattern === text;
  }
}

export function addImageRoutes(router: Router, images: ImageStore, launcher: Launcher, netctlVersion: string): void {
  const usedBy = (image: Image): string[] => launcher.list().filter((c) => c.config.rootfs === image.rootfs).map((c) => c.id);
  const findOrUndefined = (reference: string): Image | undefined => {
    try {
      return images.find(reference);
    } catch {
      return undefined;
    }
  };

  router.add('GET', '/images/json', (request) => {
    const filters = parseFilters(request.query.get('filters'), IMAGE_FILTER_KEYS);
    const all = images.list().filter((image) => imageMatches(image, filters, findOrUndefined));
    return { status: 200, body: all.map((image) => imageListJson(image)) };
  });

  router.add('GET', '/images/{name*}/json', (request) => ({ status: 200, body: imageInspectJson(images.find(request.params['name']!), netctlVersion) }));

  router.add('POST', '/images/create', async (request) => {
    const { query } = request;
    if (query.get('fromImage')) throw new ApiError(501, `pulling images is not supported: ${NO_REGISTRY}`);
    const source = query.get('fromSrc');
    if (source === null || source === '') throw badRequest('give fromSrc=- with a root file system tarball as the body (netctl imports; it does not pull)');
    if (source !== '-') throw new ApiError(501, `importing from a URL is not supported: send the tarball as the body with fromSrc=-`);
    if (query.getAll('changes').some((c) => c !== '')) throw badRequest('changes are not supported: netctl images carry no configuration (CMD, ENV, ...); give them at docker run');
    const repo = query.get('repo') ?? '';
    const tag = query.get('tag') ?? '';
    let name: ImageName | undefined;
    if (repo !== '') {
      name = parseReference(repo);
      if (tag !== '') {
        if (repo.lastIndexOf(':') > repo.lastIndexOf('/')) throw badRequest('invalid reference format: give the tag in repo (NAME:TAG) or in tag, not both');
        name = parseReference(`${repo}:${tag}`);
      }
    } else if (tag !== '') throw badRequest('a tag needs a repository: give repo=NAME too');
    const image = await images.import(request.body, name, query.get('message') ?? '');
    return { status: 200, body: { status: `sha256:${image.id}` } };
  });

  // docker image prune (dangling=false with -a): every untagged image, or every image, that no container uses.
  router.add('POST', '/images/prune', (request) => {
    const filters = parseFilters(request.query.get('filters'), PRUNE_FILTER_KEYS);
    const dangling = filters.get('dangling') ?? [];
    if (dangling.length > 1) throw badRequest("filter 'dangling' takes one value");
    const onlyDangling = dangling.length === 0 || parseBoolFilter('dangling', dangling[0]!);
    const matches = pruneFilter(filters);
    const deleted: Array<{ Untagged: string } | { Deleted: string }> = [];
    let reclaimed = 0;
    for (const image of images.list()) {
      if (image.builtIn || (onlyDangling && image.tags.length > 0) || usedBy(image).length > 0 || !matches(image.created, {})) continue;
      deleted.push(...images.remove(image.id, usedBy, false));
      reclaimed += image.size;
    }
    return { status: 200, body: { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed } };
  });

  // netctl builds nothing: its build cache is always empty (docker system prune asks it too).
  router.add('POST', '/build/prune', () => ({ status: 200, body: { CachesDeleted: null, SpaceReclaimed: 0 } }));

  router.add('DELETE', '/images/{name*}', (request) => ({ status: 200, body: images.remove(request.params['name']!, usedBy, truthy(request.query.get('force'))) }));
}
