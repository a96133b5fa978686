import { AddressVersion, TransactionVersion } from "@stacks/network";
import { AddressHashMode } from "@stacks/transactions";
import { c32address } from "./c32-address.ts";
import type { DecodedTransaction, TxType } from "./decode-transaction.ts";

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

export interface SpendingCondition {
  hashMode: number;
  signer: Uint8Array;
  nonce: bigint;
  fee: bigint;
}

/**
 * What every transaction has: who sends it and who pays, its modes; the payload-specific fields are
 * null until the payload is read.
 */
export function decodedHeader(tx: {
  txType: TxType;
  txVersion: number;
  origin: SpendingCondition;
  sponsor: SpendingCondition | null;
  anchorMode: string;
  postConditionMode: string;
}): DecodedTransaction {
  const { origin, sponsor } = tx;
  return {
    txType: tx.txType,
    senderAddress: signerAddress(origin.hashMode, origin.signer, tx.txVersion),
    sponsorAddress: sponsor ? signerAddress(sponsor.hashMode, sponsor.signer, tx.txVersion) : null,
    sponsored: sponsor !== null,
    nonce: origin.nonce.toString(),
    sponsorNonce: sponsor ? sponsor.nonce.toString() : null,
    // A sponsored transaction's fee is paid by the sponsor, and carried in the sponsor's condition.
    fee: (sponsor ?? origin).fee.toString(),
    anchorMode: tx.anchorMode,
    postConditionMode: tx.postConditionMode,
    contractId: null,
    functionName: null,
    functionArgs: null,
    tokenTransfer: null,
    coinbase: null,
    tenureChange: null,
    clarityVersion: null,
  };
}
