import { AddressVersion } from "@stacks/network";
import { addressToString, createAddress } from "@stacks/transactions";
import type { StacksNetwork } from "../config.ts";

// Principals as users write them in filters: a standard address (`SP...`) or a contract
// (`SP....name`), checked against the network a stream follows. A testnet address in a mainnet
// filter can never match, so it is an input error, not a silent no-op.

const VERSIONS: Record<StacksNetwork, ReadonlySet<number>> = {
  mainnet: new Set([AddressVersion.MainnetSingleSig, AddressVersion.MainnetMultiSig]),
  testnet: new Set([AddressVersion.TestnetSingleSig, AddressVersion.TestnetMultiSig]),
  devnet: new Set([AddressVersion.TestnetSingleSig, AddressVersion.TestnetMultiSig]),
};

const PREFIXES: Record<StacksNetwork, string> = { mainnet: "SP or SM", testnet: "ST or SN", devnet: "ST or SN" };

/** Clarity contract names: a letter, then letters, digits, `-` and `_`; at most 128 characters. */
const CONTRACT_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,127}$/;
/** Clarity names (functions, assets): also `!?+<>=/*` after the first letter. */
const CLARITY_NAME = /^[a-zA-Z][a-zA-Z0-9_!?+<>=/*-]{0,127}$/;

/** Why `name` is not a Clarity name (of a function or an asset), or null when it is one. */
export function clarityNameProblem(name: string): string | null {
  return CLARITY_NAME.test(name) ? null : `"${name}" is not a valid Clarity name`;
}

/** Why `address` is not a standard address of `network`, or null when it is one. */
export function standardAddressProblem(address: string, network: StacksNetwork): string | null {
  if (address.includes(".")) return `"${address}" is a contract; expected a standard address`;
  let decoded: ReturnType<typeof createAddress>;
  try {
    decoded = createAddress(address);
  } catch (err) {
    return `"${address}" is not a Stacks address (${(err as Error).message})`;
  }
  // c32 decoding forgives case and look-alike letters; stored addresses are canonical, so only the
  // canonical spelling can ever compare equal.
  const canonical = addressToString(decoded);
  if (canonical !== address) return `"${address}" is not written canonically; use "${canonical}"`;
  if (!VERSIONS[network].has(decoded.version)) {
    return `"${address}" is not a ${network} address (${network} addresses start with ${PREFIXES[network]})`;
  }
  return null;
}

/** Why `id` is not a contract identifier (`ADDRESS.contract-name`) of `network`, or null. */
export function contractIdProblem(id: string, network: StacksNetwork): string | null {
  const dot = id.indexOf(".");
  if (dot < 0) return `"${id}" is not a contract identifier (expected ADDRESS.contract-name)`;
  const name = id.slice(dot + 1);
  if (!CONTRACT_NAME.test(name)) return `"${name}" is not a valid contract name`;
  return standardAddressProblem(id.slice(0, dot), network);
}

/** Why `principal` is neither a standard address nor a contract identifier of `network`, or null. */
export function principalProblem(principal: string, network: StacksNetwork): string | null {
  return principal.includes(".") ? contractIdProblem(principal, network) : standardAddressProblem(principal, network);
}

/** Why `id` is not an asset identifier (`ADDRESS.contract::asset-name`) of `network`, or null. */
export function assetIdentifierProblem(id: string, network: StacksNetwork): string | null {
  const sep = id.indexOf("::");
  if (sep < 0) return `"${id}" is not an asset identifier (expected ADDRESS.contract-name::asset-name)`;
  const asset = id.slice(sep + 2);
  if (clarityNameProblem(asset)) return `"${asset}" is not a valid asset name`;
  return contractIdProblem(id.slice(0, sep), network);
}

/**
 * The first of `addresses` (as the node's blocks carry them, canonical) that belongs to the other kind
 * of network than `network`, or null. A testnet node feeding an indexer set to mainnet shows here.
 */
export function foreignAddress(network: StacksNetwork, addresses: Iterable<string | null>): string | null {
  const ours = network === "mainnet" ? ["SP", "SM"] : ["ST", "SN"];
  for (const address of addresses) {
    if (address && /^S[PMTN]/.test(address) && !ours.includes(address.slice(0, 2))) return address;
  }
  return null;
}
