import {
  AnchorMode,
  AuthType,
  type ClarityValue,
  cvToString,
  deserializeTransaction,
  getCVTypeString,
  PayloadType,
  PostConditionMode,
  serializeCV,
  TenureChangeCause,
} from "@stacks/transactions";
import { c32address } from "./c32-address.ts";
import { decodedHeader, type SpendingCondition } from "./spending-condition.ts";
import { decodeTransactionWire, TX_TYPES } from "./transaction-wire.ts";

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

/**
 * Decodes a hex raw transaction (with or without 0x). Throws with a clear message when it is not one.
 * The wire reader handles what nodes send; whatever it leaves aside (or trips over) is decoded by
 * @stacks/transactions, which stays the reference: both give the same result where both succeed.
 */
export function decodeTransaction(rawTx: string): DecodedTransaction {
  const bytes = hexBytes(rawTx);
  try {
    return decodeTransactionWire(bytes);
  } catch {
    return decodeWithLibrary(bytes);
  }
}

/** The reference decoding, by @stacks/transactions. */
export function decodeWithLibrary(bytes: Uint8Array): DecodedTransaction {
  const tx = deserializeTransaction(bytes);
  const auth = tx.auth;
  const origin = auth.spendingCondition;
  const sponsorCond = auth.authType === AuthType.Sponsored ? auth.sponsorSpendingCondition : null;
  const p = tx.payload;
  const condition = (c: typeof origin): SpendingCondition => ({
    hashMode: c.hashMode,
    signer: Buffer.from(c.signer, "hex"),
    nonce: BigInt(c.nonce),
    fee: BigInt(c.fee),
  });
  const decoded = decodedHeader({
    txType: TX_TYPES[p.payloadType],
    txVersion: tx.transactionVersion,
    origin: condition(origin),
    sponsor: sponsorCond ? condition(sponsorCond) : null,
    anchorMode: AnchorMode[tx.anchorMode] ?? String(tx.anchorMode),
    postConditionMode: PostConditionMode[tx.postConditionMode] ?? String(tx.postConditionMode),
  });
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
