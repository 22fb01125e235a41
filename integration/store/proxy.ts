// A TCP relay between a client and etcd that can misbehave like a network does: pass traffic,
// swallow etcd's replies (the request arrives and is applied, the answer never comes back), or
// cut every connection and refuse new ones (a partition).
import net from 'node:net';

export interface Relay {
  endpoint: string;
  /** Bytes from etcd swallowed so far. */
  readonly swallowed: number;
  mode(mode: 'pass' | 'swallow-replies' | 'cut'): void;
  close(): Promise<void>;
}

export async function startRelay(target: string, t: { teardown(fn: () => Promise<void> | void): void }): Promise<Relay> {
  const { hostname, port } = new URL(target);
  let current: 'pass' | 'swallow-replies' | 'cut' = 'pass';
  let swallowed = 0;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; poisoned: boolean }>();
  const server = net.createServer((client) => {
    if (current === 'cut') {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    const pair = { client, upstream, poisoned: false };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (current === 'swallow-replies' || pair.poisoned) {
        // A stream with a hole in it is garbage from here on; it is cut when the mode changes.
        pair.poisoned = true;
        swallowed += chunk.length;
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const close = async (): Promise<void> => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    await new Promise((resolve) => server.close(resolve));
  };
  t.teardown(close);
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get swallowed() {
      return swallowed;
    },
    mode(mode) {
      current = mode;
      for (const pair of pairs) {
        if (mode === 'cut' || (mode === 'pass' && pair.poisoned)) {
          pair.client.destroy();
          pair.upstream.destroy();
          pairs.delete(pair);
        }
      }
    },
    close,
  };
}
