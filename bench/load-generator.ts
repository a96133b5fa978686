// A closed-loop HTTP/1.1 load generator, run as its own process so its CPU is not the server's event
// loop: `connections` keep-alive sockets, each sending a GET and waiting for the whole answer before
// the next (no pipelining), like wrk. Raw sockets rather than fetch: the client's own cost per request
// stays small next to the server's, so the hello-world baseline measures the server more than us.
// Reads a LoadSpec as JSON on stdin, prints a LoadResult as JSON on stdout.
import type { Socket } from "bun";

export interface LoadSpec {
  host: string;
  port: number;
  /** Each request takes one at random. */
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  /** Run, uncounted, before the measured seconds: JIT, caches and connection pools warm up. */
  warmupSeconds: number;
  seconds: number;
}

export interface LoadResult {
  /** Responses received within the measured window, of requests sent within it. */
  requests: number;
  requestsPerSecond: number;
  /** Milliseconds, nearest rank. */
  p50: number;
  p99: number;
  max: number;
  /** Count of each status code seen in the measured window. */
  statuses: Record<string, number>;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function generateLoad(spec: LoadSpec): Promise<LoadResult> {
  const extra = Object.entries(spec.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const requests = spec.paths.map((p) =>
    Buffer.from(`GET ${p} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\n${extra}\r\n`),
  );
  const measureFrom = performance.now() + spec.warmupSeconds * 1000;
  const measureTo = measureFrom + spec.seconds * 1000;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const statuses: Record<string, number> = {};

  const record = (sentAt: number, doneAt: number, status: number) => {
    if (sentAt < measureFrom || doneAt > measureTo) return;
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = doneAt - sentAt;
    statuses[status] = (statuses[status] ?? 0) + 1;
  };

  const connection = () =>
    new Promise<void>((resolve, reject) => {
      let buffered: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let unsent: Buffer | null = null;
      let finished = false;
      const send = (socket: Socket) => {
        const req = requests[Math.floor(Math.random() * requests.length)] as Buffer;
        sentAt = performance.now();
        const written = socket.write(req);
        unsent = written < req.length ? req.subarray(written) : null;
      };
      const fail = (socket: Socket | null, message: string) => {
        if (finished) return;
        finished = true;
        socket?.end();
        reject(new Error(message));
      };
      Bun.connect({
        hostname: spec.host,
        port: spec.port,
        socket: {
          open: send,
          drain(socket) {
            if (!unsent) return;
            const written = socket.write(unsent);
            unsent = written < unsent.length ? unsent.subarray(written) : null;
          },
          data(socket, chunk) {
            buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
            const headerEnd = buffered.indexOf(HEADER_END);
            if (headerEnd < 0) return;
            const head = buffered.toString("latin1", 0, headerEnd);
            const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
            // Every answer measured here has a fixed body; a chunked one would need a parser we lack.
            if (length === undefined) return fail(socket, `answer without Content-Length: ${head.slice(0, 200)}`);
            const total = headerEnd + HEADER_END.length + Number(length);
            if (buffered.length < total) return;
            if (buffered.length > total) return fail(socket, "bytes after the answer to a request not pipelined");
            const doneAt = performance.now();
            record(sentAt, doneAt, Number(head.slice(9, 12)));
            buffered = Buffer.alloc(0);
            if (doneAt < measureTo) return send(socket);
            finished = true;
            socket.end();
            resolve();
          },
          close(socket) {
            fail(socket, "the server closed a keep-alive connection");
          },
          error(socket, err) {
            fail(socket, `socket error: ${err.message}`);
          },
          connectError(_socket, err) {
            fail(null, `cannot connect to ${spec.host}:${spec.port}: ${err.message}`);
          },
        },
      }).catch((err: Error) => fail(null, `cannot connect to ${spec.host}:${spec.port}: ${err.message}`));
    });

  await Promise.all(Array.from({ length: spec.connections }, connection));
  const sorted = latencies.subarray(0, count).sort();
  return {
    requests: count,
    requestsPerSecond: count / spec.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[count - 1] ?? 0,
    statuses,
  };
}

if (import.meta.main) {
  const spec = JSON.parse(await Bun.stdin.text()) as LoadSpec;
  process.stdout.write(`${JSON.stringify(await generateLoad(spec))}\n`);
}
