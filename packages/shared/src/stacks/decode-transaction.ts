import { AddressVersion, TransactionVersion } from "@stacks/network";
import {
  AddressHashMode,
  AnchorMode,
  AuthType,
  type ClarityValue,
  cvToString,
  deserializeTransaction,
  getCVTypeString,
  PayloadType,
  PostConditionMode,
  type SpendingCondition,
  serializeCV,
  TenureChangeCause,
} from "@stacks/transactions";
import { c32address } from "./c32-address.ts";

/**
 * What we keep of a raw transaction after decoding it. No txid: the node's is authoritative, and
 * re-serializing a poison-microblock payload does not reproduce it.
 */
export interface DecodedTransaction {
  txType: TxType;
  senderAddress: string;
  sponsorAddress: string | null;
  sponsored: boolean;
  nonce: string;
  sponsorNonce: string | null;
  fee: string;
  anchorMode: string;
  postConditionMode: string;
  contractId: string | null;
  functionName: string | null;
  functionArgs: DecodedClarityArg[] | null;
  tokenTransfer: { recipient: string; amount: string; memo: string } | null;
  coinbase: { altRecipient: string | null; vrfProof: string | null } | null;
  tenureChange: { cause: string; tenureConsensusHash: string; previousTenureBlocks: number } | null;
  clarityVersion: number | null;
}

export interface DecodedClarityArg {
  hex: string;
  repr: string;
  type: string;
}

export type TxType =
  | "token_transfer"
  | "smart_contract"
  | "versioned_smart_contract"
  | "contract_call"
  | "poison_microblock"
  | "coinbase"
  | "coinbase_to_alt_recipient"
  | "nakamoto_coinbase"
  | "tenure_change";

const TX_TYPES: Record<PayloadType, TxType> = {
  [PayloadType.TokenTransfer]: "token_transfer",
  [PayloadType.SmartContract]: "smart_contract",
  [PayloadType.VersionedSmartContract]: "versioned_smart_contract",
  [PayloadType.ContractCall]: "contract_call",
  [PayloadType.PoisonMicroblock]: "poison_microblock",
  [PayloadType.Coinbase]: "coinbase",
  [PayloadType.CoinbaseToAltRecipient]: "coinbase_to_alt_recipient",
  [PayloadType.NakamotoCoinbase]: "nakamoto_coinbase",
  [PayloadType.TenureChange]: "tenure_change",
};

const MULTI_SIG_MODES = new Set<AddressHashMode>([
  AddressHashMode.P2SH,
  AddressHashMode.P2WSH,
  AddressHashMode.P2SHNonSequential,
  AddressHashMode.P2WSHNonSequential,
]);

/**
 * The address that a spending condition pays from. Multi-sig modes (sequential or not, i.e.
 * order-independent) use the multi-sig address version; the signer field is already the hash160.
 */
export function spendingConditionAddress(cond: SpendingCondition, txVersion: TransactionVersion): string {
  const mainnet = txVersion === TransactionVersion.Mainnet;
  const multi = MULTI_SIG_MODES.has(cond.hashMode);
  const version = mainnet
    ? multi
      ? AddressVersion.MainnetMultiSig
      : AddressVersion.MainnetSingleSig
    : multi
      ? AddressVersion.TestnetMultiSig
      : AddressVersion.TestnetSingleSig;
  return c32address(version, Buffer.from(cond.signer, "hex"));
}

function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString("hex")}`;
}

export function decodeClarityArg(cv: ClarityValue): DecodedClarityArg {
  return { hex: `0x${serializeCV(cv)}`, repr: cvToString(cv), type: getCVTypeString(cv) };
}

const HEX = /^[0-9a-fA-F]*$/;

/**
 * Hex to bytes natively: the library's own conversion parses two characters at a time in JavaScript
 * and was a fifth of the decoding time. Like it, an odd length gets a leading zero.
 */
function hexBytes(hexText: string): Uint8Array {
  const digits = hexText.startsWith("0x") ? hexText.slice(2) : hexText;
  if (!HEX.test(digits)) throw new Error("raw transaction is not a hex string");
  return Buffer.from(digits.length % 2 ? `0${digits}` : digits, "hex");
}

/** Decodes a hex raw transaction (with or without 0x). Throws with a clear message when it is not one. */
export function decodeTransaction(rawTx: string): DecodedTransaction {
  const tx = deserializeTransaction(hexBytes(rawTx));
  const auth = tx.auth;
  const origin = auth.spendingCondition;
  const sponsorCond = auth.authType === AuthType.Sponsored ? auth.sponsorSpendingCondition : null;
  const p = tx.payload;
  const decoded: DecodedTransaction = {
    txType: TX_TYPES[p.payloadType],
    senderAddress: spendingConditionAddress(origin, tx.transactionVersion),
    sponsorAddress: sponsorCond ? spendingConditionAddress(sponsorCond, tx.transactionVersion) : null,
    sponsored: sponsorCond !== null,
    nonce: origin.nonce.toString(),
    sponsorNonce: sponsorCond ? sponsorCond.nonce.toString() : null,
    // A sponsored transaction's fee is paid by the sponsor, and carried in the sponsor's condition.
    fee: (sponsorCond ?? origin).fee.toString(),
    anchorMode: AnchorMode[tx.anchorMode] ?? String(tx.anchorMode),
    postConditionMode: PostConditionMode[tx.postConditionMode] ?? String(tx.postConditionMode),
    contractId: null,
    functionName: null,
    functionArgs: null,
    tokenTransfer: null,
    coinbase: null,
    tenureChange: null,
    clarityVersion: null,
  };
  switch (p.payloadType) {
    case PayloadType.TokenTransfer:
      decoded.tokenTransfer = {
        recipient: cvToString(p.recipient),
        amount: p.amount.toString(),
        memo: `0x${Buffer.from(p.memo.content, "utf8").toString("hex")}`,
      };
      break;
    case PayloadType.ContractCall:
      decoded.contractId = `${c32address(p.contractAddress.version, Buffer.from(p.contractAddress.hash160, "hex"))}.${p.contractName.content}`;
      decoded.functionName = p.functionName.content;
      decoded.functionArgs = p.functionArgs.map(decodeClarityArg);
      break;
    case PayloadType.SmartContract:
      decoded.contractId = `${decoded.senderAddress}.${p.contractName.content}`;
      break;
    case PayloadType.VersionedSmartContract:
      decoded.contractId = `${decoded.senderAddress}.${p.contractName.content}`;
      decoded.clarityVersion = p.clarityVersion;
      break;
    case PayloadType.CoinbaseToAltRecipient:
      decoded.coinbase = { altRecipient: cvToString(p.recipient), vrfProof: null };
      break;
    case PayloadType.NakamotoCoinbase:
      decoded.coinbase = {
        altRecipient: p.recipient ? cvToString(p.recipient) : null,
        vrfProof: hex(p.vrfProof),
      };
      break;
    case PayloadType.Coinbase:
      decoded.coinbase = { altRecipient: null, vrfProof: null };
      break;
    case PayloadType.TenureChange:
      decoded.tenureChange = {
        cause: TenureChangeCause[p.cause] ?? String(p.cause),
        tenureConsensusHash: `0x${p.tenureHash}`,
        previousTenureBlocks: p.previousTenureBlocks,
      };
      break;
    case PayloadType.PoisonMicroblock:
      break;
  }
  return decoded;
}
