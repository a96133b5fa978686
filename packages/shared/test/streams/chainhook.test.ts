import { describe, expect, test } from "bun:test";
import { chainhookPredicate } from "../../../../test/support/chainhook.ts";
import {
  type ChainhookImportOptions,
  type ChainhookTranslation,
  translateChainhookPredicate,
} from "../../src/streams/chainhook.ts";
import { compileGlob } from "../../src/streams/glob.ts";

// The translation of Chainhook 1.x Stacks predicates, scope by scope, and every refusal. Predicates
// follow the structure of Chainhook's docs ("Use Chainhooks with Stacks"); principals are real ones
// from the recorded node logs (mainnet: poisonmicroblock.tsv, testnet: the pox-4 regtest log).

const ALEX = "SP3K8BC0PPEVCV7NZ6QSRWPQ2JE9E5B6N3PA0KBR9";
const POOL = `${ALEX}.fixed-weight-pool-v1-01`;
const APOWER = `${ALEX}.token-apower::apower`;
const BNS_NAMES = "SP000000000000000000002Q6VF78.bns::names";
const TESTNET_BOOT = "ST000000000000000000002AMW42H";
const TXID = "0x4cdabcbbebb17827d9e689096f6ccfe180f07f67c38bd779c2e1131a14a30a9a";
const URL = "https://example.com/api/v1/hook";

type Spec = Record<string, unknown>;

/** A one-network predicate delivering to URL. */
function predicate(ifThis: Spec, spec: Spec = {}, network = "mainnet") {
  return chainhookPredicate({ ifThis, spec, network, url: URL });
}

function translate(p: unknown, opts: Partial<ChainhookImportOptions> = {}) {
  return translateChainhookPredicate(p, { deploymentNetwork: "mainnet", ...opts });
}

function ok(result: ChainhookTranslation) {
  if (!result.ok) throw new Error(`expected a translation, got ${JSON.stringify(result.issues)}`);
  return result;
}

function refusals(result: ChainhookTranslation) {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.stream)}`);
  return result.issues;
}

const at = (field: string, network = "mainnet") => `networks.${network}.${field}`;

describe("scopes", () => {
  test("txid: a tx filter on the id; failed transactions included, as Chainhook evaluates them", () => {
    const { stream } = ok(translate(predicate({ scope: "txid", equals: TXID.toUpperCase().replace("0X", "0x") })));
    expect(stream.filters).toEqual([{ type: "tx", txId: TXID }]);
    expect(stream.options.includeFailed).toBe(true);
    expect(refusals(translate(predicate({ scope: "txid", equals: "0x1234" })))).toEqual([
      { path: at("if_this.equals"), message: expect.stringContaining("32-byte transaction id") },
    ]);
  });

  test("block_height: every transaction of the blocks in range; between and lower_than exclude their bounds", () => {
    const range = (rule: Spec, spec: Spec = {}) => {
      const { stream } = ok(translate(predicate({ scope: "block_height", ...rule }, spec)));
      expect(stream.filters).toEqual([{ type: "tx" }]);
      return [stream.startBlock, stream.endBlock];
    };
    expect(range({ equals: 141200 })).toEqual([141200, 141200]);
    expect(range({ higher_than: 10000 })).toEqual([10001, null]);
    expect(range({ lower_than: 1000 })).toEqual([0, 999]);
    expect(range({ between: [0, 1000] })).toEqual([1, 999]);
    // start_block and end_block narrow it further.
    expect(range({ higher_than: 10000 }, { start_block: 20000, end_block: 30000 })).toEqual([20000, 30000]);
    expect(range({ between: [100, 200] }, { start_block: 50, end_block: 150 })).toEqual([101, 150]);
    const between = ok(translate(predicate({ scope: "block_height", between: [5, 10] })));
    expect(between.notes.join("\n")).toContain("blocks 6 to 9");
  });

  test("block_height: a rule that matches no block, or two rules, is refused", () => {
    expect(refusals(translate(predicate({ scope: "block_height", lower_than: 0 })))).toEqual([
      { path: at("if_this.lower_than"), message: expect.stringContaining("matches no block") },
    ]);
    expect(refusals(translate(predicate({ scope: "block_height", between: [5, 6] })))[0]?.path).toBe(
      at("if_this.between"),
    );
    expect(refusals(translate(predicate({ scope: "block_height", equals: 5, higher_than: 1 })))[0]?.path).toBe(
      at("if_this"),
    );
    expect(refusals(translate(predicate({ scope: "block_height" })))[0]?.path).toBe(at("if_this"));
    expect(
      refusals(translate(predicate({ scope: "block_height", equals: 5 }, { start_block: 10 })))[0]?.message,
    ).toContain("leave no block");
  });

  test("contract_call: the contract and the method, matched as a name, not a pattern", () => {
    const { stream } = ok(
      translate(predicate({ scope: "contract_call", contract_identifier: POOL, method: "swap-y-for-x" })),
    );
    expect(stream.filters).toEqual([{ type: "contract_call", contractId: POOL, functionName: "swap-y-for-x" }]);
    // Clarity names may hold * and ?: they are escaped, so only that very name matches.
    const starred = ok(translate(predicate({ scope: "contract_call", contract_identifier: POOL, method: "get-x*?" })));
    const pattern = (starred.stream.filters[0] as { functionName: string }).functionName;
    expect(compileGlob(pattern)("get-x*?")).toBe(true);
    expect(compileGlob(pattern)("get-xyz")).toBe(false);
    expect(
      refusals(translate(predicate({ scope: "contract_call", contract_identifier: POOL, method: "not a name" }))),
    ).toEqual([{ path: at("if_this.method"), message: expect.stringContaining("Clarity name") }]);
    expect(
      refusals(translate(predicate({ scope: "contract_call", contract_identifier: ALEX, method: "swap" })))[0]?.path,
    ).toBe(at("if_this.contract_identifier"));
    expect(refusals(translate(predicate({ scope: "contract_call", method: "swap" })))[0]?.path).toBe(
      at("if_this.contract_identifier"),
    );
  });

  test("contract_deployment: deployer → contract_deploy; * → every deployment; implement_trait refused", () => {
    const mine = ok(translate(predicate({ scope: "contract_deployment", deployer: ALEX })));
    expect(mine.stream.filters).toEqual([{ type: "contract_deploy", deployer: ALEX }]);
    const all = ok(translate(predicate({ scope: "contract_deployment", deployer: "*" })));
    expect(all.stream.filters).toEqual([{ type: "contract_deploy" }]);
    const trait = refusals(
      translate(predicate({ scope: "contract_deployment", implement_trait: `${ALEX}.sip09-protocol` })),
    );
    expect(trait).toEqual([{ path: at("if_this.implement_trait"), message: expect.stringContaining("traits") }]);
    expect(refusals(translate(predicate({ scope: "contract_deployment" })))[0]?.path).toBe(at("if_this"));
    // A testnet deployer in a mainnet predicate can never match.
    expect(refusals(translate(predicate({ scope: "contract_deployment", deployer: TESTNET_BOOT })))).toEqual([
      { path: at("if_this.deployer"), message: expect.stringContaining("not a mainnet address") },
    ]);
  });

  test("print_event contains: a print_event filter on topic print; * means any contract or any value", () => {
    const { stream, notes } = ok(
      translate(predicate({ scope: "print_event", contract_identifier: POOL, contains: "swap-y-for-x" })),
    );
    expect(stream.filters).toEqual([
      { type: "print_event", topic: "print", contractId: POOL, contains: "swap-y-for-x" },
    ]);
    expect(notes.join("\n")).toContain("JSON text of the decoded value");
    const any = ok(translate(predicate({ scope: "print_event", contract_identifier: "*", contains: "*" })));
    expect(any.stream.filters).toEqual([{ type: "print_event", topic: "print" }]);
  });

  test("print_event contains: text that looks for Clarity's printed syntax is refused", () => {
    for (const text of ['"swap"', "(ok", "u100", "amount u5", "tuple", "some", "none", "'SP"]) {
      const issues = refusals(
        translate(predicate({ scope: "print_event", contract_identifier: POOL, contains: text })),
      );
      expect(issues).toEqual([{ path: at("if_this.contains"), message: expect.stringContaining("Clarity") }]);
    }
    // Words that merely contain those letters are data, and are fine.
    for (const text of ["vault", "u-turn", "handsome", "nonexistent", "swap-x-for-y"]) {
      expect(translate(predicate({ scope: "print_event", contract_identifier: POOL, contains: text })).ok).toBe(true);
    }
  });

  test("print_event matches_regex: refused (no regular expressions), unless it is a plain text", () => {
    const regex = refusals(
      translate(
        predicate({ scope: "print_event", contract_identifier: POOL, matches_regex: "(?:^|\\W)vault(?:$|\\W)" }),
      ),
    );
    expect(regex).toEqual([{ path: at("if_this.matches_regex"), message: expect.stringContaining("contains") }]);
    const plain = ok(translate(predicate({ scope: "print_event", contract_identifier: POOL, matches_regex: "vault" })));
    expect(plain.stream.filters).toEqual([
      { type: "print_event", topic: "print", contractId: POOL, contains: "vault" },
    ]);
    expect(plain.notes.join("\n")).toContain("no regex syntax");
    const both = refusals(
      translate(predicate({ scope: "print_event", contract_identifier: POOL, contains: "a", matches_regex: "b" })),
    );
    expect(both[0]?.path).toBe(at("if_this"));
  });

  test("ft_event and nft_event: one filter per action on the asset", () => {
    const ft = ok(
      translate(predicate({ scope: "ft_event", asset_identifier: APOWER, actions: ["mint", "burn", "mint"] })),
    );
    expect(ft.stream.filters).toEqual([
      { type: "ft_mint", assetIdentifier: APOWER },
      { type: "ft_burn", assetIdentifier: APOWER },
    ]);
    expect(ft.notes.join("\n")).toContain("matching events");
    const nft = ok(
      translate(predicate({ scope: "nft_event", asset_identifier: BNS_NAMES, actions: ["mint", "transfer", "burn"] })),
    );
    expect(nft.stream.filters).toEqual([
      { type: "nft_mint", assetIdentifier: BNS_NAMES },
      { type: "nft_transfer", assetIdentifier: BNS_NAMES },
      { type: "nft_burn", assetIdentifier: BNS_NAMES },
    ]);
    expect(
      refusals(translate(predicate({ scope: "ft_event", asset_identifier: APOWER, actions: ["lock"] })))[0]?.path,
    ).toBe(at("if_this.actions.0"));
    expect(
      refusals(translate(predicate({ scope: "nft_event", asset_identifier: BNS_NAMES, actions: [] })))[0]?.path,
    ).toBe(at("if_this.actions"));
    expect(refusals(translate(predicate({ scope: "ft_event", asset_identifier: POOL, actions: ["mint"] })))).toEqual([
      { path: at("if_this.asset_identifier"), message: expect.stringContaining("asset identifier") },
    ]);
  });

  test("stx_event: one stx filter per action", () => {
    const { stream } = ok(translate(predicate({ scope: "stx_event", actions: ["transfer", "lock", "mint", "burn"] })));
    expect(stream.filters).toEqual([
      { type: "stx_transfer" },
      { type: "stx_lock" },
      { type: "stx_mint" },
      { type: "stx_burn" },
    ]);
    expect(refusals(translate(predicate({ scope: "stx_event", actions: ["stack"] })))[0]?.path).toBe(
      at("if_this.actions.0"),
    );
  });

  test("unknown or missing scopes, and unknown scope fields, are refused", () => {
    expect(refusals(translate(predicate({ scope: "signer_message_after_timestamp" })))).toEqual([
      { path: at("if_this.scope"), message: expect.stringContaining("unknown scope") },
    ]);
    expect(refusals(translate(predicate({ equals: TXID })))[0]?.path).toBe(at("if_this.scope"));
    expect(refusals(translate(predicate({ scope: "txid", equals: TXID, contains: "x" })))).toEqual([
      { path: at("if_this.contains"), message: "unknown field" },
    ]);
  });
});

describe("settings", () => {
  const stx = { scope: "stx_event", actions: ["transfer"] };

  test("start_block and end_block become the stream's range; without start_block it starts at 0, as Chainhook scans", () => {
    const ranged = ok(translate(predicate(stx, { start_block: 101, end_block: 201 })));
    expect([ranged.stream.startBlock, ranged.stream.endBlock]).toEqual([101, 201]);
    const open = ok(translate(predicate(stx)));
    expect([open.stream.startBlock, open.stream.endBlock]).toEqual([0, null]);
    expect(open.notes.join("\n")).toContain("no start_block");
    expect(refusals(translate(predicate(stx, { start_block: 10, end_block: 5 })))[0]?.path).toBe(at("end_block"));
  });

  test("blocks: one contiguous run becomes the range; anything else is refused", () => {
    const run = ok(translate(predicate(stx, { blocks: [7, 5, 6, 6] })));
    expect([run.stream.startBlock, run.stream.endBlock]).toEqual([5, 7]);
    expect(refusals(translate(predicate(stx, { blocks: [5, 7] })))[0]?.path).toBe(at("blocks"));
    expect(refusals(translate(predicate(stx, { blocks: [] })))[0]?.path).toBe(at("blocks"));
  });

  test("decode_clarity_values maps to options.decodeClarityValues, with Chainhook's default (false)", () => {
    expect(ok(translate(predicate(stx, { decode_clarity_values: true }))).stream.options).toEqual({
      includeFailed: true,
      decodeClarityValues: true,
      includeRawTx: false,
      includeBlockMetadata: false,
    });
    expect(ok(translate(predicate(stx))).stream.options.decodeClarityValues).toBe(false);
  });

  test("expire_after_occurrence is refused unless the owner accepts a stream that does not expire", () => {
    expect(refusals(translate(predicate(stx, { expire_after_occurrence: 5 })))).toEqual([
      { path: at("expire_after_occurrence"), message: expect.stringContaining("ignoreExpireAfterOccurrence=true") },
    ]);
    const accepted = ok(
      translate(predicate(stx, { expire_after_occurrence: 5 }), { ignoreExpireAfterOccurrence: true }),
    );
    expect(accepted.notes.join("\n")).toContain("expire_after_occurrence (5) was ignored");
    expect(translate(predicate(stx, { expire_after_occurrence: null })).ok).toBe(true);
  });

  test("capture_all_events is refused; include_contract_abi is carried over with a note", () => {
    expect(refusals(translate(predicate(stx, { capture_all_events: true })))[0]?.path).toBe(at("capture_all_events"));
    expect(translate(predicate(stx, { capture_all_events: false })).ok).toBe(true);
    expect(ok(translate(predicate(stx, { include_contract_abi: true }))).notes.join("\n")).toContain("ABIs");
  });

  test("unknown fields of a network's predicate are refused with their path", () => {
    expect(refusals(translate(predicate(stx, { start_blok: 5 })))).toEqual([
      { path: at("start_blok"), message: "unknown field" },
    ]);
  });
});

describe("then_that", () => {
  const stx = { scope: "stx_event", actions: ["transfer"] };
  const withAction = (thenThat: unknown) => {
    const p = predicate(stx);
    p.networks.mainnet.then_that = thenThat;
    return p;
  };

  test("http_post: the URL becomes the webhook URL; an empty authorization_header needs nothing", () => {
    expect(ok(translate(predicate(stx))).stream.webhookUrl).toBe(URL);
    expect(ok(translate(withAction({ http_post: { url: URL } }))).stream.webhookUrl).toBe(URL);
  });

  test("an authorization_header is refused unless the owner accepts signed deliveries without it", () => {
    const headed = withAction({ http_post: { url: URL, authorization_header: "Bearer cn389ncoiwuencr" } });
    expect(refusals(translate(headed))).toEqual([
      { path: at("then_that.http_post.authorization_header"), message: expect.stringContaining("Standard Webhooks") },
    ]);
    const accepted = ok(translate(headed, { dropAuthorizationHeader: true }));
    expect(accepted.stream.webhookUrl).toBe(URL);
    expect(accepted.notes.join("\n")).toContain("authorization_header was dropped");
    // The header's value never reaches the notes.
    expect(JSON.stringify(accepted)).not.toContain("cn389ncoiwuencr");
  });

  test("file_append, noop, unknown actions and a missing then_that are refused", () => {
    expect(refusals(translate(withAction({ file_append: { path: "/tmp/events.json" } })))[0]?.path).toBe(
      at("then_that.file_append"),
    );
    expect(refusals(translate(withAction("noop")))[0]?.path).toBe(at("then_that"));
    expect(refusals(translate(withAction({ kafka: {} })))[0]?.path).toBe(at("then_that.kafka"));
    expect(refusals(translate(withAction(undefined)))[0]?.path).toBe(at("then_that"));
    expect(refusals(translate(withAction({ http_post: { uri: URL } }))).map((i) => i.path)).toEqual([
      at("then_that.http_post.url"),
      at("then_that.http_post.uri"),
    ]);
  });
});

describe("envelope and networks", () => {
  const stx = { scope: "stx_event", actions: ["transfer"] };

  test("the stream takes the predicate's name and network; uuid and name are reported", () => {
    const result = ok(translate(predicate(stx)));
    expect(result.stream).toMatchObject({ name: "Lorem ipsum", network: "mainnet" });
    expect(result.translatedFrom).toEqual({ uuid: "1", name: "Lorem ipsum" });
    expect(result.sources.webhookUrl).toBe(at("then_that.http_post.url"));
  });

  test("a single network must be the deployment's, unless ?network asks for it", () => {
    const testnet = predicate({ scope: "contract_deployment", deployer: TESTNET_BOOT }, {}, "testnet");
    expect(refusals(translate(testnet))).toEqual([
      { path: "networks.testnet", message: expect.stringContaining("?network=testnet") },
    ]);
    expect(ok(translate(testnet, { network: "testnet" })).stream.network).toBe("testnet");
    expect(ok(translate(testnet, { deploymentNetwork: "testnet" })).stream.network).toBe("testnet");
    expect(refusals(translate(testnet, { network: "mainnet" }))[0]?.path).toBe("networks.mainnet");
  });

  test("several networks need ?network; the others are noted as not imported", () => {
    const both = predicate(stx);
    both.networks.testnet = both.networks.mainnet;
    expect(refusals(translate(both))).toEqual([
      { path: "networks", message: expect.stringContaining("choose one with ?network=") },
    ]);
    const chosen = ok(translate(both, { network: "mainnet" }));
    expect(chosen.notes.join("\n")).toContain("networks.testnet was not imported");
  });

  test("simnet and unknown networks are refused", () => {
    expect(refusals(translate(predicate(stx, {}, "simnet")))[0]).toEqual({
      path: "networks.simnet",
      message: expect.stringContaining("Clarinet"),
    });
    expect(refusals(translate(predicate(stx, {}, "regtest")))[0]?.path).toBe("networks.regtest");
  });

  test("Bitcoin predicates, Chainhooks 2.0 definitions, non-objects and unknown fields are refused", () => {
    expect(refusals(translate({ ...predicate(stx), chain: "bitcoin" }))).toEqual([
      { path: "chain", message: expect.stringContaining("Bitcoin") },
    ]);
    expect(
      refusals(
        translate({ version: "1", chain: "stacks", network: "mainnet", filters: { events: [] }, action: {} }),
      )[0],
    ).toEqual({ path: "(root)", message: expect.stringContaining("Chainhooks 2.0") });
    expect(refusals(translate([predicate(stx)]))[0]?.path).toBe("(root)");
    expect(refusals(translate({ ...predicate(stx), enabled: true }))).toEqual([
      { path: "enabled", message: "unknown field" },
    ]);
    expect(refusals(translate({ ...predicate(stx), uuid: undefined }))[0]?.path).toBe("uuid");
    expect(refusals(translate({ ...predicate(stx), networks: {} }))[0]?.path).toBe("networks");
  });

  test("every problem is reported at once, each at its own path", () => {
    const p = predicate(
      { scope: "print_event", contract_identifier: POOL, matches_regex: "(?:^|\\W)vault(?:$|\\W)" },
      { expire_after_occurrence: 5, capture_all_events: true },
    );
    p.networks.mainnet.then_that = { http_post: { url: URL, authorization_header: "Bearer x" } };
    expect(
      refusals(translate(p))
        .map((i) => i.path)
        .sort(),
    ).toEqual(
      [
        at("capture_all_events"),
        at("expire_after_occurrence"),
        at("if_this.matches_regex"),
        at("then_that.http_post.authorization_header"),
      ].sort(),
    );
  });
});
