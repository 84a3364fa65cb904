/**
 * A freezable TCP relay, to cut a part off from a server without closing anything: what
 * the part does after the freeze is never reported.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP relay between a part and a server (e.g. the worker and the Temporal frontend)
 * that can be frozen: from {@link TcpRelay.freeze} on, bytes in both directions are
 * dropped, so a call the part makes (an activity's completion) never arrives, as when the
 * part dies between doing something and reporting it.
 */
export interface TcpRelay {
  /** `127.0.0.1:<port>` to give the part instead of the server's address. */
  readonly address: string;
  /** Drops every byte from now on (connections stay open). */
  freeze(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Starts a {@link TcpRelay} to `target` (`host:port`) on a free port of 127.0.0.1. */
export async function startTcpRelay(target: string): Promise<TcpRelay> {
  const [, host, port] = /^(.*):(\d+)$/.exec(target) ?? [];
  if (!host || !port) throw new Error(`Invalid address ${target}`);
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect({ host, port: Number(port) });
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    address: `127.0.0.1:${address.port}`,
    freeze() {
      frozen = true;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
