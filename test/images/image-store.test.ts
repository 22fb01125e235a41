// The image store's import against real tar: a large upload streamed in small chunks.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import { ImageStore } from '../../src/images';
import { silent } from '../helpers/core';

test('a large import waits on tar without piling up listeners (one per full pipe)', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netctl-images-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const source = path.join(root, 'source');
  fs.mkdirSync(source);
  fs.writeFileSync(path.join(source, 'blob'), crypto.randomBytes(8 << 20));
  const tarball = execFileSync('tar', ['-c', '-C', source, '.'], { maxBuffer: 64 << 20 });
  const chunks = Array.from({ length: Math.ceil(tarball.length / 16_384) }, (_, i) => tarball.subarray(i * 16_384, (i + 1) * 16_384));
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const store = new ImageStore({ root, busyboxRoot: () => source, log: silent });
  store.load();
  const image = await store.import(Readable.from(chunks), undefined, '');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(fs.statSync(path.join(image.rootfs, 'blob')).size, 8 << 20);
  t.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
});
