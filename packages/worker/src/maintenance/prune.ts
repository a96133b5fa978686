import type { Sql } from "@second-layer/shared/db/connect";

/**
 * Deletes delivered and cancelled deliveries older than the retention (their attempts go with them).
 * Parked (failed) and pending ones are kept whatever their age: they are still owed. In slices, so a
 * large backlog never becomes one long transaction.
 */
export async function pruneDeliveries(sql: Sql, retentionDays: number, slice = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await sql`
      delete from deliveries where id in (
        select id from deliveries
        where status in ('delivered', 'cancelled') and created_at < now() - make_interval(secs => ${retentionDays * 86_400})
        limit ${slice})`;
    total += deleted.count;
    if (deleted.count < slice) return total;
  }
}
