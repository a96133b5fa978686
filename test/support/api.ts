import { expect } from "bun:test";
import { type RunningApi, startApi } from "@second-layer/api/start";
import { type Config, loadConfig } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { onCleanup } from "./cleanup.ts";
import { openSse, type SseStream } from "./sse.ts";
import { workerEnv } from "./worker.ts";

/** A real API server on 127.0.0.1 over a test database, with an admin key from API_BOOTSTRAP_KEY. */
export async function startTestApi(
  db: Db & { url: string },
  env: Record<string, string> = {},
): Promise<RunningApi & { config: Config; adminKey: string; client: (key?: string | null) => ApiClient }> {
  const adminKey = `sk_live_${crypto.randomUUID().replaceAll("-", "")}`;
  const config = loadConfig({
    ...workerEnv(),
    API_BOOTSTRAP_KEY: adminKey,
    HOST: "127.0.0.1",
    ...env,
    DATABASE_URL: db.url,
    PORT: "0",
  });
  const api = await startApi({ config, db, log: createLogger("api-test", config.LOG_LEVEL) });
  onCleanup(() => api.stop());
  const contract = await Contract.load(api.url);
  return {
    ...api,
    config,
    adminKey,
    client: (key: string | null = adminKey) => new ApiClient(api.url, key, contract),
  };
}

export interface ApiResponse {
  status: number;
  json: any;
  headers: Headers;
}

/**
 * The OpenAPI document of a running API, and validators of each documented response. Every response a
 * test gets through ApiClient is checked against it: the document is a contract, not a comment.
 */
export class Contract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: { method: string; template: string; pattern: RegExp }[] = [];

  private constructor(readonly doc: any) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: "openapi", components: doc.components ?? {} });
    for (const [template, ops] of Object.entries<any>(doc.paths ?? {})) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      for (const method of Object.keys(ops)) this.routes.push({ method: method.toUpperCase(), template, pattern });
    }
  }

  static async load(base: string): Promise<Contract> {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    return new Contract(await res.json());
  }

  /** Fails the test when a response does not match the document (unknown route, undocumented status, wrong body). */
  check(method: string, path: string, res: ApiResponse): void {
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route) {
      // Undocumented paths may only answer the standard 404 body.
      expect(res.status, `${method} ${path} is not in the OpenAPI document`).toBe(404);
      expect(res.json?.error?.code).toBe("NOT_FOUND");
      return;
    }
    const op = this.doc.paths[route.template][method.toLowerCase()];
    const documented = op.responses?.[String(res.status)];
    expect(documented, `${method} ${route.template} answered ${res.status}, which it does not document`).toBeDefined();
    const schema = documented?.content?.["application/json"]?.schema;
    if (!schema) return;
    const key = `${method} ${route.template} ${res.status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(
        JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')),
      );
      this.validators.set(key, validate);
    }
    const ok = validate(res.json);
    expect(ok ? null : { response: key, errors: validate.errors }).toBeNull();
  }

  /** An event stream's answer: a documented status whose documented content includes its media type. */
  checkEventStream(method: string, path: string, status: number, contentType: string): void {
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path));
    expect(route, `${method} ${path} is not in the OpenAPI document`).toBeDefined();
    const op = this.doc.paths[route?.template as string][method.toLowerCase()];
    const content = op.responses?.[String(status)]?.content ?? {};
    const mediaType = contentType.split(";")[0]?.trim() ?? "";
    expect(Object.keys(content), `${method} ${route?.template} ${status} does not document ${mediaType}`).toContain(
      mediaType,
    );
  }
}

/** A response body as JSON, or as text when it is not JSON. */
async function readBody(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

export class ApiClient {
  constructor(
    readonly base: string,
    readonly key: string | null,
    private readonly contract: Contract,
  ) {}

  withKey(key: string | null): ApiClient {
    return new ApiClient(this.base, key, this.contract);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const json = await readBody(res);
    const out = { status: res.status, json, headers: res.headers };
    this.contract.check(method, new URL(`${this.base}${path}`).pathname, out);
    return out;
  }

  /**
   * A Server-Sent Events request. A 200 event stream is checked for its documented media type and
   * returned open in `stream`; any other answer is read and checked like every response.
   */
  async sse(path: string, headers: Record<string, string> = {}): Promise<ApiResponse & { stream: SseStream | null }> {
    const { res, stream } = await openSse(`${this.base}${path}`, {
      ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
      ...headers,
    });
    const pathname = new URL(`${this.base}${path}`).pathname;
    if (stream) {
      this.contract.checkEventStream("GET", pathname, res.status, res.headers.get("content-type") ?? "");
      return { status: res.status, json: null, headers: res.headers, stream };
    }
    const json = await readBody(res);
    const out = { status: res.status, json, headers: res.headers };
    this.contract.check("GET", pathname, out);
    return { ...out, stream: null };
  }

  get(path: string) {
    return this.request("GET", path);
  }
  post(path: string, body?: unknown) {
    return this.request("POST", path, body ?? {});
  }
  patch(path: string, body: unknown) {
    return this.request("PATCH", path, body);
  }
  put(path: string, body: unknown) {
    return this.request("PUT", path, body);
  }
  delete(path: string) {
    return this.request("DELETE", path);
  }
}
