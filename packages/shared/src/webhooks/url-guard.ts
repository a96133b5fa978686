import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { lookup as dnsLookupAsync } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
// The package itself, not Bun's built-in stand-in for "undici", which ignores `connect` options.
import { Agent, buildConnector } from "undici/index.js";

// SSRF guard for webhook URLs. A user-supplied URL must not reach the machine, its private network or
// a cloud metadata service. Checked twice: when a stream is created (clear error to the user), and on
// every connection (the name may resolve elsewhere by then: DNS rebinding). Only globally routable
// unicast addresses pass; WEBHOOK_ALLOWED_PRIVATE_HOSTS names hosts exempt from the address check.

export type WebhookUrlErrorCode = "WEBHOOK_URL_INVALID" | "WEBHOOK_URL_FORBIDDEN" | "WEBHOOK_URL_UNRESOLVABLE";

export class WebhookUrlError extends Error {
  constructor(
    readonly code: WebhookUrlErrorCode,
    message: string,
    /** The refused address, for WEBHOOK_URL_FORBIDDEN. */
    readonly address?: string,
  ) {
    super(message);
  }
}

/** Cloud metadata endpoints, named as such in errors (their ranges are refused anyway). */
const METADATA_ADDRESSES = new Map([
  ["169.254.169.254", "AWS, GCP, Azure and others"],
  ["169.254.170.2", "AWS ECS"],
  ["fd00:ec2::254", "AWS"],
  ["100.100.100.200", "Alibaba Cloud"],
  ["192.0.0.192", "Oracle Cloud"],
]);

const RANGE_NAMES: Record<string, string> = {
  unspecified: "an unspecified",
  broadcast: "a broadcast",
  multicast: "a multicast",
  linkLocal: "a link-local",
  loopback: "a loopback",
  carrierGradeNat: "a carrier-grade NAT (CGNAT)",
  private: "a private",
  uniqueLocal: "a unique-local",
  reserved: "a reserved",
};

/** Host names and addresses exempt from the address check (lowercased, IPv6 without brackets). */
export type AllowedHosts = ReadonlySet<string>;

/** WEBHOOK_ALLOWED_PRIVATE_HOSTS (`127.0.0.1,localhost,[::1]`) as a set; empty entries ignored. */
export function parseAllowedHosts(list: string | undefined): AllowedHosts {
  return new Set(
    (list ?? "")
      .split(",")
      .map((h) => normalizeHost(h.trim()))
      .filter((h) => h.length > 0),
  );
}

function normalizeHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, "");
}

/** Why a webhook may not connect to `address`, or null when it is a public unicast address. */
export function forbiddenAddressReason(address: string): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return "not an IP address";
  }
  const text = ip.toString();
  const cloud = METADATA_ADDRESSES.get(text);
  if (cloud) return `a cloud metadata address (${cloud})`;
  const range = ip.range();
  if (range === "unicast") return null;
  return `${RANGE_NAMES[range] ?? `a special-purpose (${range})`} address`;
}

function forbidden(host: string, address: string, reason: string): WebhookUrlError {
  const via = normalizeHost(host) === normalizeHost(address) ? "" : ` (resolved from ${host})`;
  return new WebhookUrlError(
    "WEBHOOK_URL_FORBIDDEN",
    `webhook host ${address}${via} is ${reason}; webhooks go to public addresses only ` +
      "(operators can exempt a host with WEBHOOK_ALLOWED_PRIVATE_HOSTS)",
    address,
  );
}

export interface UrlGuardOptions {
  allowedPrivateHosts?: AllowedHosts;
}

/**
 * Checks a webhook URL when a stream is created or changed: http(s), no credentials, and every
 * address its host resolves to is public (unless the host is allowed). Returns the parsed URL.
 */
export async function checkWebhookUrl(
  url: string,
  { allowedPrivateHosts = new Set() }: UrlGuardOptions = {},
): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookUrlError("WEBHOOK_URL_INVALID", "the webhook URL is not a valid absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new WebhookUrlError("WEBHOOK_URL_INVALID", `the webhook URL must use https or http, not ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) {
    throw new WebhookUrlError(
      "WEBHOOK_URL_INVALID",
      "the webhook URL must not contain credentials; verify deliveries by their signature",
    );
  }
  const host = normalizeHost(parsed.hostname);
  if (allowedPrivateHosts.has(host)) return parsed;
  let addresses: LookupAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await dnsLookupAsync(host, { all: true, verbatim: true });
    } catch (err) {
      throw new WebhookUrlError(
        "WEBHOOK_URL_UNRESOLVABLE",
        `webhook host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? "lookup failed"})`,
      );
    }
  }
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address);
    if (reason) throw forbidden(host, address, reason);
  }
  return parsed;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls connections that resolves as usual and refuses forbidden addresses, so the
 * address checked is the address connected to.
 */
export function guardedLookup(allowedPrivateHosts: AllowedHosts) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowedPrivateHosts.has(normalizeHost(hostname))) {
        for (const { address } of addresses) {
          const reason = forbiddenAddressReason(address);
          if (reason) return callback(forbidden(hostname, address, reason), []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}

export interface GuardedAgentOptions extends UrlGuardOptions {
  /** Connect timeout, ms. */
  connectTimeout?: number;
  /** Passed on to undici's Agent (connections per origin, keep-alive, ...). */
  agent?: Omit<ConstructorParameters<typeof Agent>[0] & object, "connect">;
}

/**
 * An undici Agent for sending webhooks that refuses forbidden addresses at connect time: names are
 * checked by the lookup, IP literals (which skip the lookup) before connecting. Use it with the
 * `request`/`fetch` of `undici/index.js`; Bun's built-in "undici" would ignore it.
 */
export function createGuardedAgent({
  allowedPrivateHosts = new Set(),
  connectTimeout,
  agent,
}: GuardedAgentOptions = {}) {
  const connector = buildConnector({ lookup: guardedLookup(allowedPrivateHosts), timeout: connectTimeout });
  return new Agent({
    ...agent,
    connect: (options, callback) => {
      const host = normalizeHost(options.hostname);
      if (isIP(host) && !allowedPrivateHosts.has(host)) {
        const reason = forbiddenAddressReason(host);
        if (reason) return callback(forbidden(host, host, reason), null);
      }
      connector(options, callback);
    },
  });
}
