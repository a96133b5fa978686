import { expect, test } from "bun:test";
import { createTestDatabase } from "../../../test/support/database.ts";
import { connect } from "../src/db/connect.ts";
import { pipelinedTransaction } from "../src/db/pipelined-transaction.ts";

async function oneConnection() {
  const db = await createTestDatabase();
  // One connection: a transaction left open or aborted on it would show in the next statement.
  const single = connect(db.url, { max: 1 });
  await single.sql`create table t (v int primary key)`;
  return single;
}

test("the first statements run inside the transaction: what fn writes before it throws is rolled back", async () => {
  const { sql, close } = await oneConnection();
  try {
    const err = await pipelinedTransaction(sql, async (tx) => {
      await Promise.all([tx`insert into t values (1)`, tx`insert into t values (2)`]);
      throw new Error("changed my mind");
    }).catch((e) => e);
    expect(err.message).toBe("changed my mind");
    expect(await sql`select v from t`).toEqual([]);
  } finally {
    await close();
  }
});

test("commits what fn wrote and returns its result", async () => {
  const { sql, close } = await oneConnection();
  try {
    const result = await pipelinedTransaction(sql, async (tx) => {
      const [[row]] = await Promise.all([tx<{ v: number }[]>`insert into t values (7) returning v`]);
      return row?.v;
    });
    expect(result).toBe(7);
    expect(await sql`select v from t`).toEqual([{ v: 7 }]);
  } finally {
    await close();
  }
});

test("a failing statement rejects with its own error, rolls back the rest, and leaves the connection usable", async () => {
  const { sql, close } = await oneConnection();
  try {
    const err = await pipelinedTransaction(sql, (tx) =>
      Promise.all([tx`insert into t values (1)`, tx`insert into t values (1)`, tx`insert into t values (2)`]),
    ).catch((e) => e);
    expect(err.code).toBe("23505");
    expect(await sql`select v from t`).toEqual([]);
    expect(await sql`select txid_current_if_assigned() as x`).toEqual([{ x: null }]);
  } finally {
    await close();
  }
});
