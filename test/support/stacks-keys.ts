import { privateKeyToPublic } from "@stacks/transactions";

/** Fixed private keys (compressed), so tests sign the same transactions every run. */
export const TEST_KEYS = [
  "edf9aee84d9b7abc145504dde6726c64f369d37ee34ded868fabd876c26570bc01",
  "7287ba251d44a4d3fd9276c88ce34c5c52a038955511cccaf77e61068649c17801",
  "530d9f61984c888536871c6573073bdfc0058896dc1adfe9a6a10dfacadc209101",
] as const;

export const TEST_PUBLIC_KEYS = TEST_KEYS.map((k) => privateKeyToPublic(k) as string);
