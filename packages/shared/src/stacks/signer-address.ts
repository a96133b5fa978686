import { AddressVersion, TransactionVersion } from "@stacks/network";
import { AddressHashMode } from "@stacks/transactions";
import { c32address } from "./c32-address.ts";

const MULTI_SIG_MODES = new Set<number>([
  AddressHashMode.P2SH,
  AddressHashMode.P2WSH,
  AddressHashMode.P2SHNonSequential,
  AddressHashMode.P2WSHNonSequential,
]);

export function isMultiSig(hashMode: number): boolean {
  return MULTI_SIG_MODES.has(hashMode);
}

/**
 * The address that a spending condition pays from. Multi-sig modes (sequential or not, i.e.
 * order-independent) use the multi-sig address version; the signer field is already the hash160.
 */
export function signerAddress(hashMode: number, signer: Uint8Array, txVersion: number): string {
  const mainnet = txVersion === TransactionVersion.Mainnet;
  const multi = isMultiSig(hashMode);
  const version = mainnet
    ? multi
      ? AddressVersion.MainnetMultiSig
      : AddressVersion.MainnetSingleSig
    : multi
      ? AddressVersion.TestnetMultiSig
      : AddressVersion.TestnetSingleSig;
  return c32address(version, signer);
}
