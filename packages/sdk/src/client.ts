import { type ClientOptions, Transport } from "./http.ts";
import { ChainResource } from "./resources/chain.ts";
import { AccountsResource, KeysResource } from "./resources/keys.ts";
import { StreamsResource } from "./resources/streams.ts";
import { ViewsResource } from "./resources/views.ts";

/**
 * A client of one Second Layer API. Every method returns the API's JSON, typed from its OpenAPI
 * document, or throws a SecondLayerError.
 *
 * ```ts
 * const sl = new SecondLayer({ baseUrl: "http://127.0.0.1:3800", apiKey: process.env.SL_API_KEY });
 * const { stream, secret } = await sl.streams.create({ name, webhookUrl, filters: [{ type: "block" }] });
 * ```
 */
export class SecondLayer {
  readonly streams: StreamsResource;
  readonly views: ViewsResource;
  readonly keys: KeysResource;
  readonly accounts: AccountsResource;
  readonly chain: ChainResource;
  private readonly http: Transport;

  constructor(options: ClientOptions) {
    this.http = new Transport(options);
    this.streams = new StreamsResource(this.http);
    this.views = new ViewsResource(this.http);
    this.keys = new KeysResource(this.http);
    this.accounts = new AccountsResource(this.http);
    this.chain = new ChainResource(this.http);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Chain, integrity, streams, deliveries and views at a glance (public; cached by the API for a few seconds). */
  status() {
    return this.http.call("get", "/status");
  }

  /** Liveness of the API process. */
  health() {
    return this.http.call("get", "/health");
  }

  /** Readiness: throws SecondLayerError (503) while the database is unreachable or migrations are pending. */
  ready() {
    return this.http.call("get", "/ready");
  }
}
