import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { linesToSkip, LOG_TIME_STREAM, LogLineSplitter, logTimestamp, MAX_LINE_BYTES, placeInWindow, readLogLines } from '../../src/launcher/log-reader';

/** A chunk as the shim logs it: its time record, then the frame. */
function logged(stream: number, text: string | Buffer, timeNano: bigint): Buffer {
  const time = Buffer.alloc(16);
  time[0] = LOG_TIME_STREAM;
  time.writeUInt32BE(8, 4);
  time.writeBigUInt64BE(timeNano, 8);
  const data = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([time, header, data]);
}

const shown = (lines: Array<{ stream: number; timeNano: bigint; data: Buffer }>) => lines.map((l) => [l.stream, l.timeNano, l.data.toString()]);

test('chunks become lines: several in a chunk share its time, a line in pieces takes the time of the piece that ends it', (t) => {
  const splitter = new LogLineSplitter();
  t.deepEqual(shown(splitter.push(logged(1, 'a\nb\nc', 10n))), [[1, 10n, 'a\n'], [1, 10n, 'b\n']]);
  t.deepEqual(shown(splitter.push(logged(2, 'err\n', 20n))), [[2, 20n, 'err\n']], 'each stream has its own pending line');
  t.deepEqual(shown(splitter.push(logged(1, 'd\n', 30n))), [[1, 30n, 'cd\n']]);
  t.deepEqual(shown(splitter.push(logged(1, 'tail', 40n))), []);
  t.deepEqual(shown(splitter.flush()), [[1, 40n, 'tail']]);
  t.deepEqual(splitter.flush(), []);
});

test('records split anywhere across chunks are joined; frames without a time record have time 0', (t) => {
  const bytes = Buffer.concat([logged(1, 'one\n', 5n), logged(2, 'two\n', 6n)]);
  const splitter = new LogLineSplitter();
  const lines = [];
  for (let i = 0; i < bytes.length; i += 3) lines.push(...splitter.push(bytes.subarray(i, i + 3)));
  t.deepEqual(shown(lines), [[1, 5n, 'one\n'], [2, 6n, 'two\n']]);
  const untimed = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('x\ny')]);
  t.deepEqual(shown(new LogLineSplitter().push(untimed)), [[1, 0n, 'x\n']]);
});

test("a line longer than Docker's 16 KiB message is cut in pieces of that size", (t) => {
  const splitter = new LogLineSplitter();
  const lines = splitter.push(logged(1, 'x'.repeat(MAX_LINE_BYTES * 2 + 5), 1n));
  t.deepEqual(lines.map((l) => l.data.length), [MAX_LINE_BYTES, MAX_LINE_BYTES]);
  t.deepEqual(splitter.flush().map((l) => l.data.length), [5]);
});

test('readLogLines reads up to the given size only, the pending piece there a line of its own', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-logread-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'log');
  const first = Buffer.concat([logged(1, 'a\nb', 1n), logged(1, 'c\n', 2n)]);
  fs.writeFileSync(file, Buffer.concat([first, logged(1, 'later\n', 3n)]));
  const handle = await fs.promises.open(file, 'r');
  t.teardown(() => handle.close());
  const lines = [];
  for await (const line of readLogLines(handle, 0, first.length - 2)) lines.push(line);
  t.deepEqual(shown(lines), [[1, 1n, 'a\n'], [1, 2n, 'b']]);
});

test("selection: tail counts every stream's lines; since keeps lines at or after it, until ends the read after it", (t) => {
  t.is(linesToSkip(10, undefined), 0);
  t.is(linesToSkip(10, 2), 8);
  t.is(linesToSkip(10, 0), 10);
  t.is(linesToSkip(1, 5), 0);
  const line = (timeNano: bigint) => ({ stream: 1, timeNano, data: Buffer.from('x\n') });
  t.is(placeInWindow(line(5n), {}), 'inside');
  t.is(placeInWindow(line(5n), { sinceNano: 6n }), 'before');
  t.is(placeInWindow(line(6n), { sinceNano: 6n }), 'inside');
  t.is(placeInWindow(line(7n), { untilNano: 7n }), 'inside');
  t.is(placeInWindow(line(8n), { sinceNano: 1n, untilNano: 7n }), 'after');
});

test("timestamps in Docker's RFC3339NanoFixed: UTC, always nine digits", (t) => {
  t.is(logTimestamp(1_796_397_129_042_864_165n), '2026-12-04T15:12:09.042864165Z');
  t.is(logTimestamp(1_796_397_129_000_000_100n), '2026-12-04T15:12:09.000000100Z');
  t.is(logTimestamp(0n), '1970-01-01T00:00:00.000000000Z');
});
