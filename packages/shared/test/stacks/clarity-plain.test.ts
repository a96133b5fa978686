import { describe, expect, test } from "bun:test";
import { Cl, serializeCV } from "@stacks/transactions";
import { FIXTURE_NETWORKS, fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import { clarityToPlain, decodeClarityPlain, type PlainClarity } from "../../src/stacks/clarity-plain.ts";

const P = "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159";

describe("Clarity values as plain JSON", () => {
  test("the documented mapping, type by type", () => {
    const cases: [ReturnType<typeof Cl.uint>, PlainClarity][] = [
      [Cl.uint(0), "0"],
      [Cl.uint((1n << 128n) - 1n), "340282366920938463463374607431768211455"],
      [Cl.int(-(1n << 127n)), "-170141183460469231731687303715884105728"],
      [Cl.bool(true), true],
      [Cl.bool(false), false],
      [Cl.principal(P), P],
      [Cl.contractPrincipal(P, "market-v2"), `${P}.market-v2`],
      [Cl.bufferFromHex("00ff10"), "0x00ff10"],
      [Cl.bufferFromHex(""), "0x"],
      [Cl.stringAscii("listing"), "listing"],
      [Cl.stringUtf8("prix: 5 € ✓"), "prix: 5 € ✓"],
      [Cl.none(), null],
      [Cl.some(Cl.uint(3)), "3"],
      [Cl.ok(Cl.bool(true)), { ok: true }],
      [Cl.error(Cl.uint(404)), { err: "404" }],
      [Cl.list([]), []],
      [Cl.list([Cl.uint(1), Cl.uint(2)]), ["1", "2"]],
      [
        Cl.tuple({
          "token-id": Cl.uint(7),
          owner: Cl.some(Cl.principal(P)),
          meta: Cl.tuple({ "a-b": Cl.list([Cl.none()]) }),
        }),
        { "token-id": "7", owner: P, meta: { "a-b": [null] } },
      ],
    ] as never;
    for (const [cv, plain] of cases) {
      expect(clarityToPlain(cv)).toEqual(plain);
      const hex = serializeCV(cv);
      expect(decodeClarityPlain(hex)).toEqual(plain);
      expect(decodeClarityPlain(`0x${hex}`)).toEqual(plain);
    }
  });

  test("the pox-4 print of the regtest recording: the stacked amount and stacker agree with its stx_lock event", () => {
    const events = fixtureBlocks("regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv").flatMap((b) => b.events);
    const lock = events.find((e) => e.type === "stx_lock_event")!;
    const print = events.find((e) => e.type === "contract_event" && e.txid === lock.txid)!;
    const value = decodeClarityPlain(print.value_hex!) as any;
    expect(value.ok.name).toBe("stack-stx");
    expect(value.ok.stacker).toBe(lock.locked_address);
    expect(value.ok.data["lock-amount"]).toBe(lock.amount);
  });

  test("every Clarity value in the recordings decodes, to JSON without numbers (exact by construction)", () => {
    let decoded = 0;
    const hasNumber = (v: PlainClarity): boolean =>
      typeof v === "object" && v !== null ? Object.values(v).some(hasNumber) : typeof v === "number";
    for (const fixture of Object.keys(FIXTURE_NETWORKS)) {
      for (const block of fixtureBlocks(fixture)) {
        const hexes = [
          ...block.events.map((e) => e.value_hex),
          ...block.transactions.map((t) => t.raw_result),
          ...block.transactions.flatMap((t) => ((t.function_args as { hex: string }[] | null) ?? []).map((a) => a.hex)),
        ].filter((h): h is string => h !== null);
        for (const hex of hexes) {
          expect(hasNumber(decodeClarityPlain(hex))).toBe(false);
          decoded++;
        }
      }
    }
    expect(decoded).toBeGreaterThan(100);
  });

  test("bytes that are not a Clarity value throw", () => {
    expect(() => decodeClarityPlain("0x")).toThrow();
    expect(() => decodeClarityPlain("0xff")).toThrow();
  });
});
