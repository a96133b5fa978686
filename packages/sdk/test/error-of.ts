import { expect } from "bun:test";
import { SecondLayerError } from "../src/index.ts";

/** The SecondLayerError a call rejects with; fails the test when it resolves or rejects with anything else. */
export async function errorOf(promise: Promise<unknown>): Promise<SecondLayerError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SecondLayerError);
    return err as SecondLayerError;
  }
  throw new Error("expected a SecondLayerError");
}
