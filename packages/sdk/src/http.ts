import type { paths } from "./api-types.ts";
import { errorFromBody, SecondLayerError } from "./errors.ts";

// The typed request core: every call names a path of the OpenAPI document and a method, and its
// answer is typed by the document's success response. Resource classes wrap it per route.

export type Method = "get" | "post" | "put" | "patch" | "delete";
export type Path = keyof paths;
/** The OpenAPI operation at a path and method. */
export type Operation<P extends Path, M extends Method> = NonNullable<paths[P][M]>;
type Parameters_<O> = O extends { parameters: infer X } ? X : never;
/** The query parameters an operation takes. */
export type QueryOf<P extends Path, M extends Method> = NonNullable<
  Parameters_<Operation<P, M>> extends { query?: infer Q } ? Q : never
>;
/** The JSON body an operation takes. */
export type BodyOf<P extends Path, M extends Method> =
  Operation<P, M> extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
type Json<R> = R extends { content: { "application/json": infer J } } ? J : undefined;
type Success = 200 | 201 | 202 | 204;
/** The body of an operation's success answer (undefined for 204). */
export type ResultOf<P extends Path, M extends Method> =
  Operation<P, M> extends { responses: infer R } ? { [S in keyof R & Success]: Json<R[S]> }[keyof R & Success] : never;

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:3800`. */
  baseUrl: string;
  /** `sk_live_...`; sent as `Authorization: Bearer`. Only the public routes work without it. */
  apiKey?: string;
  /** Per request, in ms (default 30 000). Event streams are not limited. */
  timeoutMs?: number;
  /** Another fetch (a proxy agent, a test double); default: the global fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Sent with every request. */
  headers?: Record<string, string>;
}

export interface CallInit {
  /** Values for the `{name}` segments of the path. */
  params?: Record<string, string | number>;
  query?: object;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: (input: string, init: RequestInit) => Promise<Response>;

  constructor(private readonly options: ClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new SecondLayerError({
        code: "INVALID_BASE_URL",
        message: `baseUrl must be an http(s) URL, not ${JSON.stringify(options.baseUrl)}`,
        status: null,
      });
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The absolute URL of a path template with its parameters and query. */
  url(path: string, params: CallInit["params"] = {}, query: object = {}): string {
    const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`missing path parameter ${name} for ${path}`);
      return encodeURIComponent(String(value));
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${filled}${qs ? `?${qs}` : ""}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      ...this.options.headers,
      ...extra,
    };
  }

  /** A fetch with the client's key and headers; network failures become SecondLayerError. */
  async send(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    try {
      return await this.fetchImpl(url, { ...init, headers: this.headers(init.headers) });
    } catch (err) {
      if ((err as Error).name === "TimeoutError") {
        throw new SecondLayerError({ code: "TIMEOUT", message: `no answer from ${url} in time`, status: null });
      }
      if ((err as Error).name === "AbortError") throw err;
      throw new SecondLayerError({
        code: "NETWORK_ERROR",
        message: `could not reach ${this.baseUrl}: ${(err as Error).message}`,
        status: null,
        cause: err,
      });
    }
  }

  /** One API call: the success body, or a SecondLayerError. */
  async call<P extends Path, M extends Method>(method: M, path: P, init: CallInit = {}): Promise<ResultOf<P, M>> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const hasBody = init.body !== undefined;
    const res = await this.send(this.url(path, init.params, init.query), {
      method: method.toUpperCase(),
      headers: {
        accept: "application/json",
        ...(hasBody ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      body: hasBody ? JSON.stringify(init.body) : undefined,
      signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
    });
    const body = await readBody(res);
    if (!res.ok) throw errorFromBody(res.status, body, res.headers);
    if (typeof body === "string") {
      throw new SecondLayerError({
        code: "INVALID_RESPONSE",
        message: `HTTP ${res.status} from ${path} is not JSON: ${body.slice(0, 200)}`,
        status: res.status,
      });
    }
    return body as ResultOf<P, M>;
  }
}

/** The answer's JSON, its text when it is not JSON, undefined when empty. */
export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
