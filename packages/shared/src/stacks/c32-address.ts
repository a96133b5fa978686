// Stacks addresses (c32check): "S", the version as a c32 digit, then c32 of hash160 + checksum, where
// the checksum is the first 4 bytes of sha256(sha256(version byte + hash160)). @stacks/transactions
// computes this in JavaScript (hex strings, a JS sha256) at ~25 µs an address, and a block holds
// several per transaction; this version hashes natively and works on bytes.

const C32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function sha256(data: Uint8Array): Uint8Array {
  return Bun.SHA256.hash(data) as Uint8Array;
}

/** c32 of big-endian bytes: base 32 without leading zero digits, then one "0" per leading zero byte. */
function c32encode(bytes: Uint8Array): string {
  const digits: string[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = bytes.length - 1; i >= 0; i--) {
    acc |= (bytes[i] as number) << bits;
    bits += 8;
    while (bits >= 5) {
      digits.push(C32[acc & 31] as string);
      acc >>>= 5;
      bits -= 5;
    }
  }
  if (bits > 0) digits.push(C32[acc & 31] as string);
  while (digits.length > 0 && digits[digits.length - 1] === "0") digits.pop();
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) digits.push("0");
  return digits.reverse().join("");
}

/** The address of a version (0-31) and a 20-byte hash160, exactly as `addressToString` renders it. */
export function c32address(version: number, hash160: Uint8Array): string {
  if (!Number.isInteger(version) || version < 0 || version > 31) throw new Error(`invalid address version ${version}`);
  if (hash160.length !== 20) throw new Error(`hash160 must be 20 bytes, got ${hash160.length}`);
  const versioned = new Uint8Array(21);
  versioned[0] = version;
  versioned.set(hash160, 1);
  const data = new Uint8Array(24);
  data.set(hash160);
  data.set(sha256(sha256(versioned)).subarray(0, 4), 20);
  return `S${C32[version]}${c32encode(data)}`;
}
