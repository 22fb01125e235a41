#!/usr/bin/env node
// A tiny container engine that embeds netctl: it makes two network namespaces of its own, asks
// netctl (in this process, no daemon) for a bridge network, attaches both namespaces as external
// sandboxes, serves from one and reaches it by name from the other through netctl's DNS at
// 127.0.0.11, then takes it all down again. Run as root where the bridge may live (the test runs
// it with nsenter inside a test host). Prints one line per step, `key: value`.
'use strict';
const { execFile, execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createNetctl } = require('netctl');

const say = (key, value) => console.log(`${key}: ${value}`);
// Asynchronous: netctl's DNS answers from this process's event loop, which a sync exec would block.
const inside = (nsPath, ...command) =>
  new Promise((resolve, reject) => execFile('nsenter', [`--net=${nsPath}`, ...command], { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))));

/** Waits (bounded) for a child's first line on stdout. */
function firstLine(child, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 10 s`)), 10_000);
    child.once('error', reject);
    child.stdout.once('data', (chunk) => {
      clearTimeout(timer);
      resolve(chunk.toString().trim());
    });
  });
}

async function main() {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  const web = `engine-${crypto.randomBytes(3).toString('hex')}`;
  const undo = []; // the engine's own teardown, run last-first

  // netctl's parts, defaults except where this engine keeps its state.
  const netctl = await createNetctl({ store: path.join(state, 'store.db'), runDir: path.join(state, 'run') });
  const { controller } = netctl;
  try {
    // The engine's namespaces: one named (ip netns add), one held by a process (unshare -n).
    execFileSync('ip', ['netns', 'add', web]);
    undo.push(() => execFileSync('ip', ['netns', 'del', web]));
    say('namespace', `/run/netns/${web}`);
    const holder = spawn('unshare', ['--net', 'sh', '-c', 'echo up; exec sleep 600'], { stdio: ['ignore', 'pipe', 'inherit'] });
    undo.push(() => holder.kill());
    await firstLine(holder, 'the namespace holder');
    say('namespace', `/proc/${holder.pid}/ns/net`);

    const network = await controller.create({ name: 'engine-net', driver: 'bridge' });
    undo.push(() => controller.delete(network.id));
    say('subnet', network.ipam.config[0].subnet);

    // External keys: a path, and an open descriptor (netctl keeps a duplicate, so ours may go).
    const server = await controller.createSandbox({ key: `/run/netns/${web}` });
    undo.push(() => controller.deleteSandbox(server.id));
    const fd = fs.openSync(`/proc/${holder.pid}/ns/net`, 'r');
    const client = await controller.createSandbox({ key: fd }).finally(() => fs.closeSync(fd));
    undo.push(() => controller.deleteSandbox(client.id));

    const endpoint = await controller.connect(network.id, server.id, { name: 'web' });
    await controller.connect(network.id, client.id, { name: 'client' });
    const address = endpoint.ipv4.address.split('/')[0];
    say('address', address);

    // A responder in the server's namespace, asked by name from the client's.
    const responder = spawn('nsenter', [`--net=/run/netns/${web}`, process.execPath, '-e', "require('http').createServer((q, r) => r.end('hello from web')).listen(8080, () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    undo.push(() => responder.kill());
    await firstLine(responder, 'the responder');
    const resolved = await inside(`/proc/${holder.pid}/ns/net`, 'dig', '+short', '+time=2', '+tries=2', '@127.0.0.11', 'web');
    say('resolved web', resolved);
    const reply = await inside(`/proc/${holder.pid}/ns/net`, process.execPath, '-e', `require('http').get('http://${resolved}:8080', (r) => r.pipe(process.stdout)).setTimeout(5000, function () { this.destroy(new Error('no reply')); })`);
    say('reply', reply);
  } finally {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`teardown: ${error.message}`);
        process.exitCode = 1;
      }
    }
    await netctl.close();
    fs.rmSync(state, { recursive: true, force: true });
  }
  if (!process.exitCode) say('done', 'network, sandboxes and namespaces removed');
}

main().catch((error) => {
  console.error(error.stack || error.message);
  process.exitCode = 1;
});
