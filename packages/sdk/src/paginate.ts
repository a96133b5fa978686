/**
 * Every item of a cursor-paginated list, page after page: `fetchPage(undefined)` first, then
 * `fetchPage(next)` with each page's `next` until it is null. Pages are fetched as the loop asks
 * (breaking out stops fetching).
 */
export async function* paginate<Page extends { next: string | null }, Item>(
  fetchPage: (cursor: string | undefined) => Promise<Page>,
  items: (page: Page) => Item[],
): AsyncGenerator<Item, void, undefined> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* items(page);
    if (page.next === null) return;
    cursor = page.next;
  }
}

/** Collects an async iterable into an array (for small lists; iterate large ones instead). */
export async function collect<T>(items: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
