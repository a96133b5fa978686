import type { BodyOf, QueryOf, Transport } from "../http.ts";

/** `/api/keys`: API keys of the caller's account (any account's, for admin keys). */
export class KeysResource {
  constructor(private readonly http: Transport) {}

  /** A new key; the answer's `key` is shown this once. */
  create(input: BodyOf<"/api/keys", "post">) {
    return this.http.call("post", "/api/keys", { body: input });
  }

  /** The account's keys (never the keys themselves). */
  list(query: QueryOf<"/api/keys", "get"> = {}) {
    return this.http.call("get", "/api/keys", { query });
  }

  async revoke(id: string): Promise<void> {
    await this.http.call("delete", "/api/keys/{id}", { params: { id } });
  }
}

/** `/api/accounts` (admin keys). */
export class AccountsResource {
  constructor(private readonly http: Transport) {}

  /** An account and its first key (shown this once). */
  create(input: BodyOf<"/api/accounts", "post">) {
    return this.http.call("post", "/api/accounts", { body: input });
  }
}
