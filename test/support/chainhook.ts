/** A Chainhook 1.x Stacks predicate for one network, shaped as Chainhook's docs write them. */
export function chainhookPredicate(opts: {
  ifThis: Record<string, unknown>;
  url: string;
  network?: string;
  /** Fields beside if_this and then_that (start_block, expire_after_occurrence, ...). */
  spec?: Record<string, unknown>;
  name?: string;
}): { chain: string; uuid: string; name: string; version: number; networks: Record<string, any> } {
  return {
    chain: "stacks",
    uuid: "1",
    name: opts.name ?? "Lorem ipsum",
    version: 1,
    networks: {
      [opts.network ?? "mainnet"]: {
        if_this: opts.ifThis,
        then_that: { http_post: { url: opts.url, authorization_header: "" } },
        ...opts.spec,
      },
    },
  };
}
