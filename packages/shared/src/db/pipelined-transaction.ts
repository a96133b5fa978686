import type postgres from "postgres";

/**
 * A transaction like `sql.begin`, except that BEGIN travels with the transaction's first statements
 * instead of taking a round trip of its own (postgres.js awaits BEGIN before calling the callback).
 * On a connection every statement runs in the order sent, so the first statements `fn` issues run
 * inside the transaction. Whatever `fn` throws rolls it back; otherwise it commits.
 */
export async function pipelinedTransaction<T>(
  sql: postgres.Sql,
  fn: (tx: postgres.ReservedSql) => Promise<T>,
): Promise<T> {
  const tx = await sql.reserve();
  try {
    let result: T;
    try {
      [, result] = await Promise.all([tx`begin`.execute(), fn(tx)]);
    } catch (err) {
      // A broken connection cannot roll back, and needs not: the server rolls back on its own.
      await tx`rollback`.catch(() => {});
      throw err;
    }
    await tx`commit`;
    return result;
  } finally {
    tx.release();
  }
}
