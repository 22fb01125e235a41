// Images: the built-in busybox root, and root file systems imported from tarballs (`docker import`)
// under <root>/images/imported/<id>/, each a directory holding `rootfs/` and `image.json` (ID, tag,
// creation time, size). An import is extracted and described in a scratch directory and renamed
// into place, and a removal renames the directory away before deleting it, so a crash leaves
// either the whole image or none: the directory is the record, and no second store has to agree
// with it. A tag moved to a newer import is taken off the older one (which stays, untagged, as
// Docker's dangling image); after a crash between the two writes the newer one keeps it.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { EventSink } from '../events/bus';
import { RootfsError } from '../launcher/rootfs';
import { crashPoint } from '../util/crash-point';
import type { Logger } from '../util/logger';
import { type ImageName, InvalidReferenceError, parseReference, tagged } from './reference';

export const BUILT_IN_IMAGE = 'busybox:latest';

export interface Image {
  /** 64 hex digits (Docker shows it as sha256:ID). */
  id: string;
  /** "name:tag"; none for an image whose tag a later import took. */
  tags: string[];
  created: string;
  /** Bytes of the root's files. */
  size: number;
  comment: string;
  /** The directory containers of this image run in. */
  rootfs: string;
  builtIn: boolean;
}

/** 404 */
export class NoSuchImageError extends Error {
  override readonly name = 'NoSuchImageError';
}

/** 409 */
export class ImageConflictError extends Error {
  override readonly name = 'ImageConflictError';
}

/** 400: the body is not a tarball tar can read. */
export class InvalidImageError extends Error {
  override readonly name = 'InvalidImageError';
}

export { InvalidReferenceError };

interface ImageFile {
  id: string;
  tags: string[];
  created: string;
  size: number;
  comment: string;
}

const SCRATCH = '.tmp-';
const ID = /^[0-9a-f]{64}$/;

/** The first bytes of the compressed tarballs Docker accepts, and tar's flag for each. */
const COMPRESSIONS: Array<[Buffer, string]> = [
  [Buffer.from([0x1f, 0x8b]), '--gzip'],
  [Buffer.from('BZh'), '--bzip2'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), '--xz'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), '--zstd'],
];

export interface ImageStoreDeps {
  /** The daemon's root: images go under root/images/imported. */
  root: string;
  /** The built-in busybox root, made on first use. */
  busyboxRoot(): string;
  log: Logger;
  events?: EventSink;
}

export class ImageStore {
  private readonly images = new Map<string, Image>();
  private busybox: Image | undefined;
  private readonly dir: string;

  constructor(private readonly deps: ImageStoreDeps) {
    this.dir = path.join(deps.root, 'images', 'imported');
  }

  /** Reads the imported images; removes what an import or removal cut short by a crash left. */
  load(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const byTag = new Map<string, Image>();
    for (const name of fs.readdirSync(this.dir)) {
      const dir = path.join(this.dir, name);
      if (!ID.test(name)) {
        this.deps.log.warn({ dir }, 'image directory left by an interrupted import or removal: removing it');
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      let file: ImageFile;
      try {
        file = JSON.parse(fs.readFileSync(path.join(dir, 'image.json'), 'utf8')) as ImageFile;
      } catch (error) {
        this.deps.log.error({ err: error, dir }, 'image record unreadable: left out');
        continue;
      }
      const image: Image = { ...file, rootfs: path.join(dir, 'rootfs'), builtIn: false };
      this.images.set(image.id, image);
      for (const tag of image.tags) {
        const other = byTag.get(tag);
        if (other && other.created > image.created) this.untag(image, tag);
        else {
          if (other) this.untag(other, tag);
          byTag.set(tag, image);
        }
      }
    }
  }

  /** Newest first, as Docker lists them; the built-in image unless busybox is missing on the host. */
  list(): Image[] {
    const all = [...this.images.values()];
    try {
      all.push(this.builtIn());
    } catch (error) {
      if (!(error instanceof RootfsError)) throw error;
    }
    return all.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  /** As Docker resolves an image: by full ID ("sha256:" optional), then name[:tag] (":latest" when none), then unique ID prefix. */
  find(reference: string): Image {
    const hex = reference.replace(/^sha256:/, '');
    const byId = /^[0-9a-f]+$/.test(hex) ? this.list().filter((image) => image.id.startsWith(hex)) : [];
    if (hex.length === 64 && byId.length === 1) return byId[0]!;
    const name = this.nameOf(reference);
    // Made on demand, or the reason it cannot be.
    if (name === BUILT_IN_IMAGE) return this.builtIn();
    const byName = name !== undefined ? this.list().find((image) => image.tags.includes(name)) : undefined;
    if (byName) return byName;
    if (byId.length === 1) return byId[0]!;
    throw new NoSuchImageError(`No such image: ${name ?? reference}`);
  }

  /** "name:tag", or undefined for what is no image name. */
  private nameOf(reference: string): string | undefined {
    try {
      return tagged(parseReference(reference));
    } catch {
      return undefined;
    }
  }

  /**
   * Extracts a root file system tarball (plain, gzip, bzip2, xz or zstd) as a new image, tagged
   * `name` if given (the tag moves from an image that had it).
   */
  async import(body: Readable, name: ImageName | undefined, comment: string): Promise<Image> {
    const tag = name ? tagged(name) : undefined;
    if (tag === BUILT_IN_IMAGE) throw new ImageConflictError(`${BUILT_IN_IMAGE} is netctl's built-in image: import under another name or tag`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const scratch = fs.mkdtempSync(path.join(this.dir, SCRATCH));
    try {
      const rootfs = path.join(scratch, 'rootfs');
      fs.mkdirSync(rootfs, { mode: 0o755 });
      const created = new Date().toISOString();
      const digest = await extract(body, rootfs);
      // Docker's IDs differ per import of the same tarball: its config holds the time.
      const id = crypto.createHash('sha256').update(digest).update(created).digest('hex');
      const file: ImageFile = { id, tags: tag ? [tag] : [], created, size: treeSize(rootfs), comment };
      fs.writeFileSync(path.join(scratch, 'image.json'), JSON.stringify(file));
      crashPoint('image-import:described');
      fs.renameSync(scratch, path.join(this.dir, id));
      crashPoint('image-import:in-place');
      const image: Image = { ...file, rootfs: path.join(this.dir, id, 'rootfs'), builtIn: false };
      this.images.set(id, image);
      if (tag) {
        for (const other of this.images.values()) if (other !== image && other.tags.includes(tag)) this.untag(other, tag);
        this.deps.events?.publish('image', 'tag', `sha256:${id}`, { name: tag });
      }
      this.deps.events?.publish('image', 'import', `sha256:${id}`, { name: `sha256:${id}` });
      return image;
    } catch (error) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Removes an image no container uses, as Docker's rmi: its tag, then its files. An image in use
   * is refused, with `force` too: its containers run in its files (Docker keeps the layers).
   * Returns Docker's answer: what was untagged and deleted.
   */
  remove(reference: string, usedBy: (image: Image) => string[], force: boolean): Array<{ Untagged: string } | { Deleted: string }> {
    const image = this.find(reference);
    const short = image.id.slice(0, 12);
    if (image.builtIn) throw new ImageConflictError(`conflict: unable to delete ${short} (cannot be forced) - ${BUILT_IN_IMAGE} is netctl's built-in image`);
    const containers = usedBy(image);
    if (containers.length > 0) {
      const user = containers[0]!.slice(0, 12);
      const byTag = image.tags.find((t) => t === this.nameOf(reference));
      if (force) throw new ImageConflictError(`conflict: unable to delete ${short} (cannot be forced) - image is being used by container ${user}: netctl runs containers in their image's files; remove the container first`);
      throw new ImageConflictError(byTag ? `conflict: unable to remove repository reference "${byTag}" (must force) - container ${user} is using its referenced image ${short}` : `conflict: unable to delete ${short} (must be forced) - image is being used by container ${user}`);
    }
    const dir = path.join(this.dir, image.id);
    const doomed = `${path.join(this.dir, SCRATCH)}rm-${image.id}`;
    fs.renameSync(dir, doomed);
    crashPoint('image-rm:renamed-away');
    this.images.delete(image.id);
    fs.rmSync(doomed, { recursive: true, force: true });
    const id = `sha256:${image.id}`;
    this.deps.events?.publish('image', 'untag', id, { name: id });
    this.deps.events?.publish('image', 'delete', id, { name: id });
    return [...image.tags.map((tag) => ({ Untagged: tag })), { Deleted: id }];
  }

  private untag(image: Image, tag: string): void {
    image.tags = image.tags.filter((t) => t !== tag);
    const file: ImageFile = { id: image.id, tags: image.tags, created: image.created, size: image.size, comment: image.comment };
    const target = path.join(this.dir, image.id, 'image.json');
    fs.writeFileSync(`${target}${SCRATCH}`, JSON.stringify(file));
    fs.renameSync(`${target}${SCRATCH}`, target);
  }

  /** busybox:latest, described once: its ID is the digest of its busybox binary. */
  private builtIn(): Image {
    if (this.busybox) return this.busybox;
    const rootfs = this.deps.busyboxRoot();
    const binary = fs.readFileSync(path.join(rootfs, 'bin', 'busybox'));
    this.busybox = {
      id: crypto.createHash('sha256').update(binary).digest('hex'),
      tags: [BUILT_IN_IMAGE],
      created: fs.statSync(rootfs).mtime.toISOString(),
      size: treeSize(rootfs),
      comment: "netctl's built-in root: Debian's static busybox",
      rootfs,
      builtIn: true,
    };
    return this.busybox;
  }
}

/** Runs tar on the body into `dir`; resolves with the digest of the body as sent. */
async function extract(body: Readable, dir: string): Promise<Buffer> {
  const hash = crypto.createHash('sha256');
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  const compression = COMPRESSIONS.find(([magic]) => head.subarray(0, magic.length).equals(magic))?.[1];
  // Numeric owners, as Docker: the host's user names mean nothing in the container's root. GNU tar
  // refuses a member that would be written through a symlink the archive made (../ or absolute).
  const tar = spawn('tar', ['-x', '--numeric-owner', ...(compression ? [compression] : []), '-C', dir, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => resolve(code));
  });
  // tar may stop reading early (a body that is no tarball): the rest of the body is still read and hashed.
  tar.stdin!.on('error', () => undefined);
  const feed = async (chunk: Buffer): Promise<void> => {
    hash.update(chunk);
    const stdin = tar.stdin!;
    if (stdin.writable && !stdin.write(chunk)) await new Promise<void>((resolve) => {
      // Both removed when either fires: a 'close' listener left per full pipe would pile up.
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.once('drain', done);
      stdin.once('close', done);
    });
  };
  try {
    if (!first.done) await feed(head);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) await feed(next.value);
  } catch (error) {
    // The client left mid-upload: tar would wait for the rest for ever.
    tar.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw error;
  } finally {
    tar.stdin!.end();
  }
  const code = await exited;
  if (code !== 0) {
    const reason = stderr.trim().split('\n').filter((l) => l !== '').slice(-2).join('; ') || `tar exited with ${code}`;
    throw new InvalidImageError(`the request body is not a tarball netctl can extract (${reason}): give a root file system as a tar archive (plain, gzip, bzip2, xz or zstd), as docker import takes`);
  }
  return hash.digest();
}

/** Bytes of the regular files under `dir` (a hard link's once per name). */
function treeSize(dir: string): number {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) total += fs.lstatSync(full).size;
    }
  }
  return total;
}
