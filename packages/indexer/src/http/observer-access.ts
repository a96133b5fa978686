import { errorBody } from "@second-layer/shared/error-body";
import { type IpRange, inIpRanges, parseIpAddress } from "@second-layer/shared/ip-ranges";
import type { Logger } from "@second-layer/shared/logger";
import type { MiddlewareHandler } from "hono";

/** The server Bun.serve passes to `fetch` beside the request; Hono hands it on as `c.env`. */
export interface PeerAddressSource {
  requestIP(req: Request): { address: string } | null;
}

export interface ObserverAccessOptions {
  /** OBSERVER_ALLOWED_IPS */
  allowed: readonly IpRange[];
  /** TRUST_PROXY: how many proxies in front of the indexer append to X-Forwarded-For. */
  trustedHops: number;
  log: Logger;
}

/**
 * Where a request came from. Every proxy appends the address it was connected from to X-Forwarded-For,
 * so in `[...X-Forwarded-For, socket peer]` the client sits `trustedHops` places left of the peer.
 * Entries further left are whatever the client chose to send and are never believed.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedHops: number,
): string | undefined {
  const forwarded = trustedHops > 0 && forwardedFor ? forwardedFor.split(",").map((entry) => entry.trim()) : [];
  const chain = [...forwarded, peer];
  return chain[Math.max(0, chain.length - 1 - trustedHops)];
}

/**
 * Refuses requests from outside OBSERVER_ALLOWED_IPS with 403 before their body is read: only the node
 * may write blocks.
 */
export function observerAccess(opts: ObserverAccessOptions): MiddlewareHandler<{ Bindings: PeerAddressSource }> {
  const via = opts.trustedHops > 0 ? ` (taken from X-Forwarded-For with TRUST_PROXY=${opts.trustedHops})` : "";
  return async (c, next) => {
    const peer = c.env?.requestIP(c.req.raw)?.address;
    const client = clientAddress(peer, c.req.header("x-forwarded-for"), opts.trustedHops);
    const address = client === undefined ? null : parseIpAddress(client);
    if (address && inIpRanges(address, opts.allowed)) return await next();
    const shown = address ? address.toString() : JSON.stringify((client ?? "unknown").slice(0, 64));
    opts.log.warn({ path: c.req.path, address: shown, peer }, "POST refused: address not in OBSERVER_ALLOWED_IPS");
    return c.json(
      errorBody("FORBIDDEN_SOURCE", `POST from ${shown}${via} refused: the address is not in OBSERVER_ALLOWED_IPS`),
      403,
    );
  };
}
