import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test owns, in front of a real service: `drop()` resets every connection and refuses
 * new ones (the service is gone), `freeze()` keeps connections open but passes nothing on until restored (the peer
 * hangs, as a SIGSTOPped server does), `restore()` forwards again.
 */
export interface TcpProxy {
  readonly port: number;
  drop(): void;
  freeze(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'up' | 'down' | 'frozen' = 'up';
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (mode === 'frozen') pause(pair);
  });
  const pause = (pair: [Socket, Socket]) => pair.forEach((socket) => socket.pause());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const drop = () => {
    mode = 'down';
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: (server.address() as AddressInfo).port,
    drop,
    freeze() {
      mode = 'frozen';
      pairs.forEach(pause);
    },
    restore() {
      mode = 'up';
      for (const pair of pairs) pair.forEach((socket) => socket.resume());
    },
    async close() {
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
