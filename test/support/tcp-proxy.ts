import type { Socket, TCPSocketListener } from "bun";
import { onCleanup } from "./cleanup.ts";

interface Pair {
  client: Socket<Pair>;
  upstream: Socket<Pair> | null;
  pending: Uint8Array[];
}

/**
 * A TCP proxy on 127.0.0.1 in front of a server: clients connect to `url`, bytes pass through both
 * ways, and `dropAll()` cuts every open connection at once, as a network failure or a load balancer
 * restart would (the server and the client each see the other go away).
 */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private readonly server: TCPSocketListener<Pair>;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(target: string) {
    const { hostname, port } = new URL(target);
    this.server = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => {
          this.accepted++;
          const pair: Pair = { client, upstream: null, pending: [] };
          client.data = pair;
          this.pairs.add(pair);
          Bun.connect<Pair>({
            hostname,
            port: Number(port),
            data: pair,
            socket: {
              open: (upstream) => {
                pair.upstream = upstream;
                for (const chunk of pair.pending) upstream.write(chunk);
                pair.pending = [];
              },
              data: (_, chunk) => {
                pair.client.write(chunk);
              },
              close: () => this.close(pair),
              error: () => this.close(pair),
            },
          }).catch(() => this.close(pair));
        },
        data: (client, chunk) => {
          const pair = client.data;
          if (pair.upstream) pair.upstream.write(chunk);
          else pair.pending.push(new Uint8Array(chunk));
        },
        close: (client) => this.close(client.data),
        error: (client) => this.close(client.data),
      },
    });
    onCleanup(() => this.stop());
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Cuts every open connection; new ones are accepted as before. */
  dropAll(): number {
    const n = this.pairs.size;
    for (const pair of [...this.pairs]) this.close(pair);
    return n;
  }

  stop(): void {
    this.dropAll();
    this.server.stop(true);
  }

  private close(pair: Pair | undefined): void {
    if (!pair || !this.pairs.delete(pair)) return;
    pair.client.end();
    pair.upstream?.end();
  }
}
