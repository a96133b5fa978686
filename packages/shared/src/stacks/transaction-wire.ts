import {
  AnchorMode,
  BytesReader,
  ClarityType,
  cvToString,
  deserializeCV,
  getCVTypeString,
  PayloadType,
  PostConditionMode,
  STRING_MAX_LENGTH,
  TenureChangeCause,
} from "@stacks/transactions";
import { c32address } from "./c32-address.ts";
import type { DecodedClarityArg, DecodedTransaction, TxType } from "./decode-transaction.ts";
import { decodedHeader, isMultiSig, type SpendingCondition } from "./spending-condition.ts";

// A direct reader of the Stacks transaction wire format for the fields we keep. The library's
// deserializer builds every part as hex strings and renders each principal with a JavaScript sha256,
// which made decoding the largest cost of ingesting a block. This reader is strict: anything it does
// not expect (an unknown enum value, a truncated body, an uncompressed multi-sig key, a name that is
// not ASCII) throws WireUnsupported, and the caller falls back to the library, so a transaction that
// decodes here decodes to exactly what the library gives. Clarity values (function arguments, NFT
// post-condition values, coinbase recipients) are read by the library's own deserializeCV.

/** The transaction uses something this reader leaves to @stacks/transactions. */
export class WireUnsupported extends Error {}

/** Our name for each payload type (transactions.tx_type). */
export const TX_TYPES: Record<PayloadType, TxType> = {
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
const MAINNET = 0x00;
const TESTNET = 0x80;
const P2PKH = 0x00;
const P2WPKH = 0x02;
const SIGNATURE_BYTES = 65;
// The library's limits on length-prefixed strings: names, a contract's code.
const NAME_MAX_BYTES = 128;
const CODE_MAX_BYTES = 100_000;
const VERSIONED_CODE_MAX_BYTES = STRING_MAX_LENGTH;
const MAX_CLARITY_VERSION = 6;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder();

class Reader {
  offset = 0;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(n: number): number {
    const at = this.offset;
    if (at + n > this.bytes.length) throw new WireUnsupported("truncated");
    this.offset += n;
    return at;
  }

  u8(): number {
    return this.bytes[this.take(1)] as number;
  }

  u16(): number {
    return this.view.getUint16(this.take(2));
  }

  u32(): number {
    return this.view.getUint32(this.take(4));
  }

  u64(): bigint {
    return this.view.getBigUint64(this.take(8));
  }

  read(n: number): Uint8Array {
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }

  /** A name (contract, function, asset): one length byte, ASCII, at most 128 bytes. */
  name(): string {
    const bytes = this.read(this.u8());
    if (bytes.length > NAME_MAX_BYTES || bytes.some((b) => b > 0x7f)) throw new WireUnsupported("name");
    return String.fromCharCode(...bytes);
  }

  /** A contract's code: four length bytes, valid UTF-8 (the library re-encodes it to check the limit). */
  code(maxBytes: number): void {
    const bytes = this.read(this.u32());
    if (bytes.length > maxBytes) throw new WireUnsupported("code too long");
    utf8.decode(bytes);
  }

  /** A Clarity value, read by the library; returns it with its bytes as they appear in the transaction. */
  clarityValue(): { cv: ReturnType<typeof deserializeCV>; bytes: Uint8Array } {
    const reader = new BytesReader(this.bytes);
    reader.readOffset = this.offset;
    const cv = deserializeCV(reader);
    const end = reader.readOffset;
    if (end > this.bytes.length) throw new WireUnsupported("truncated");
    const bytes = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return { cv, bytes };
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function address(r: Reader): string {
  const version = r.u8();
  if (version > 31) throw new WireUnsupported("address version");
  return c32address(version, r.read(20));
}

function spendingCondition(r: Reader): SpendingCondition {
  const hashMode = r.u8();
  const cond = { hashMode, signer: r.read(20), nonce: r.u64(), fee: r.u64() };
  if (hashMode === P2PKH || hashMode === P2WPKH) {
    const keyEncoding = r.u8();
    if (keyEncoding !== 0 && (keyEncoding !== 1 || hashMode === P2WPKH)) throw new WireUnsupported("key encoding");
    r.read(SIGNATURE_BYTES);
  } else if (isMultiSig(hashMode)) {
    const fields = r.u32();
    for (let i = 0; i < fields; i++) {
      const type = r.u8();
      // Compressed keys and signatures only: uncompressed ones bring rules the library enforces.
      if (type === 0x00) {
        const prefix = r.u8();
        if (prefix !== 0x02 && prefix !== 0x03) throw new WireUnsupported("public key");
        r.read(32);
      } else if (type === 0x02) {
        r.read(SIGNATURE_BYTES);
      } else {
        throw new WireUnsupported("auth field");
      }
    }
    r.u16();
  } else {
    throw new WireUnsupported("hash mode");
  }
  return cond;
}

function skipPostCondition(r: Reader): void {
  const type = r.u8();
  const principal = r.u8();
  if (principal === 0x02 || principal === 0x03) {
    address(r);
    if (principal === 0x03) r.name();
  } else if (principal !== 0x01) {
    throw new WireUnsupported("post-condition principal");
  }
  const fungibleCode = () => {
    const code = r.u8();
    if (code < 1 || code > 5) throw new WireUnsupported("condition code");
  };
  const asset = () => {
    address(r);
    r.name();
    r.name();
  };
  switch (type) {
    case 0: // STX
    case 3: // staking
      fungibleCode();
      r.u64();
      return;
    case 1: // fungible token
      asset();
      fungibleCode();
      r.u64();
      return;
    case 2: {
      // non-fungible token
      asset();
      r.clarityValue();
      const code = r.u8();
      if (code < 0x10 || code > 0x12) throw new WireUnsupported("condition code");
      return;
    }
    case 4: {
      // PoX
      const code = r.u8();
      if (code < 0x30 || code > 0x32) throw new WireUnsupported("condition code");
      return;
    }
    default:
      throw new WireUnsupported("post-condition type");
  }
}

/** A principal as cvToString renders it; other Clarity values go through the library. */
function principalText(r: Reader): string {
  const type = r.bytes[r.offset];
  if (type === 0x05 || type === 0x06) {
    r.u8();
    const standard = address(r);
    return type === 0x05 ? standard : `${standard}.${r.name()}`;
  }
  return cvToString(r.clarityValue().cv);
}

function withoutTrailingNul(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return text.slice(0, end);
}

function clarityArg(r: Reader): DecodedClarityArg {
  const start = r.offset;
  const type = r.bytes[start];
  // Principals, the most common argument, are rendered here: the library re-derives them twice in JS.
  if (type === 0x05 || type === 0x06) {
    const repr = principalText(r);
    return { hex: `0x${hex(r.bytes.subarray(start, r.offset))}`, repr, type: "principal" };
  }
  const { cv, bytes } = r.clarityValue();
  return { hex: `0x${hex(bytes)}`, repr: cvToString(cv), type: getCVTypeString(cv) };
}

/** Decodes the bytes of a raw transaction; throws WireUnsupported for what it leaves to the library. */
export function decodeTransactionWire(bytes: Uint8Array): DecodedTransaction {
  const r = new Reader(bytes);
  const txVersion = r.u8();
  if (txVersion !== MAINNET && txVersion !== TESTNET) throw new WireUnsupported("transaction version");
  r.u32(); // chain id
  const authType = r.u8();
  if (authType !== 0x04 && authType !== 0x05) throw new WireUnsupported("auth type");
  const origin = spendingCondition(r);
  const sponsor = authType === 0x05 ? spendingCondition(r) : null;
  const anchorMode = AnchorMode[r.u8()];
  const postConditionMode = PostConditionMode[r.u8()];
  if (anchorMode === undefined || postConditionMode === undefined) throw new WireUnsupported("mode");
  const postConditions = r.u32();
  for (let i = 0; i < postConditions; i++) skipPostCondition(r);
  const payloadType = r.u8();
  const txType = TX_TYPES[payloadType as PayloadType];
  if (txType === undefined) throw new WireUnsupported("payload type");
  const decoded = decodedHeader({ txType, txVersion, origin, sponsor, anchorMode, postConditionMode });
  const senderAddress = decoded.senderAddress;
  switch (payloadType) {
    case PayloadType.TokenTransfer: {
      const recipient = principalText(r);
      const amount = r.u64().toString();
      // As the library reads a memo: UTF-8 text without its trailing NUL padding.
      const memo = withoutTrailingNul(lenientUtf8.decode(r.read(34)));
      decoded.tokenTransfer = { recipient, amount, memo: `0x${Buffer.from(memo, "utf8").toString("hex")}` };
      break;
    }
    case PayloadType.SmartContract:
      decoded.contractId = `${senderAddress}.${r.name()}`;
      r.code(CODE_MAX_BYTES);
      break;
    case PayloadType.ContractCall: {
      decoded.contractId = `${address(r)}.${r.name()}`;
      decoded.functionName = r.name();
      const args = r.u32();
      decoded.functionArgs = [];
      for (let i = 0; i < args; i++) decoded.functionArgs.push(clarityArg(r));
      break;
    }
    case PayloadType.Coinbase:
      r.read(32);
      decoded.coinbase = { altRecipient: null, vrfProof: null };
      break;
    case PayloadType.CoinbaseToAltRecipient:
      r.read(32);
      decoded.coinbase = { altRecipient: principalText(r), vrfProof: null };
      break;
    case PayloadType.VersionedSmartContract: {
      const version = r.u8();
      if (version < 1 || version > MAX_CLARITY_VERSION) throw new WireUnsupported("clarity version");
      decoded.clarityVersion = version;
      decoded.contractId = `${senderAddress}.${r.name()}`;
      r.code(VERSIONED_CODE_MAX_BYTES);
      break;
    }
    case PayloadType.TenureChange: {
      const tenureHash = hex(r.read(20));
      r.read(20 + 20 + 32); // previous tenure hash, burn view hash, previous tenure end
      const previousTenureBlocks = r.u32();
      const cause = TenureChangeCause[r.u8()];
      if (cause === undefined) throw new WireUnsupported("tenure change cause");
      r.read(20); // public key hash
      decoded.tenureChange = { cause, tenureConsensusHash: `0x${tenureHash}`, previousTenureBlocks };
      break;
    }
    case PayloadType.NakamotoCoinbase: {
      r.read(32);
      const { cv } = r.clarityValue();
      const altRecipient = cv.type === ClarityType.OptionalSome ? cvToString(cv.value) : null;
      decoded.coinbase = { altRecipient, vrfProof: `0x${hex(r.read(80))}` };
      break;
    }
    // A poison microblock: the library keeps nothing of its payload, and neither do we.
  }
  return decoded;
}
