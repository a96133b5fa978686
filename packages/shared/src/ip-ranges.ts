import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
/** A parsed CIDR range: network address and prefix length. */
export type IpRange = [IpAddress, number];

/** `::ffff:10.1.2.3` is how a dual-stack socket reports an IPv4 peer: treat it as `10.1.2.3`. */
function unmapped(address: IpAddress): IpAddress {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/** Parses one address; null when it is not an IPv4 or IPv6 address. */
export function parseIpAddress(text: string): IpAddress | null {
  // Only dotted quads for IPv4: ipaddr.js would also read `10.1` or `0x0a000001` as addresses.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  return ipaddr.IPv6.isValid(text) ? unmapped(ipaddr.IPv6.parse(text)) : null;
}

/** Parses `10.0.0.0/8`, `fc00::/7`, or a bare address (one host); throws a message naming the entry. */
export function parseIpRange(text: string): IpRange {
  if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return ipaddr.IPv4.parseCIDR(text);
  if (ipaddr.IPv6.isValidCIDR(text)) {
    const [address, bits] = ipaddr.IPv6.parseCIDR(text);
    // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range under a prefix 96 bits shorter.
    return bits >= 96 && address.isIPv4MappedAddress() ? [address.toIPv4Address(), bits - 96] : [address, bits];
  }
  const address = parseIpAddress(text);
  if (address) return [address, address.kind() === "ipv4" ? 32 : 128];
  throw new Error(`"${text}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, fc00::/7)`);
}

export function inIpRanges(address: IpAddress, ranges: readonly IpRange[]): boolean {
  return ranges.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));
}
