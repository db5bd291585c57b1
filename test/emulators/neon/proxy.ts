import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  close(): Promise<void>;
  /** Drops every open connection, as a compute restart does. */
  disconnectAll(): void;
}

/**
 * A loopback TCP forwarder. Each emulated endpoint owns two (direct and pooler) so its address stays stable while the
 * branch's cluster behind it is replaced (restore), and disappears when the endpoint is deleted, as on Neon.
 */
export function startTcpProxy(targetPort: () => number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port: targetPort() });
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const disconnectAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        disconnectAll,
        close: () =>
          new Promise<void>((done) => {
            disconnectAll();
            server.close(() => done());
          }),
      });
    });
  });
}
