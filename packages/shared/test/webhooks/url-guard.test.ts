import { afterAll, describe, expect, test } from "bun:test";
import { request } from "undici/index.js";
import {
  checkWebhookUrl,
  createGuardedAgent,
  forbiddenAddressReason,
  parseAllowedHosts,
  WebhookUrlError,
} from "../../src/webhooks/url-guard.ts";

// Real DNS only for names this machine answers itself (localhost); everything else is a literal IP.

async function rejection(promise: Promise<unknown>): Promise<WebhookUrlError> {
  try {
    await promise;
  } catch (err) {
    return err as WebhookUrlError;
  }
  throw new Error("expected a rejection");
}

const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("received") });
const serverV6 = (() => {
  try {
    return Bun.serve({ hostname: "::1", port: 0, fetch: () => new Response("received over IPv6") });
  } catch {
    return null;
  }
})();
afterAll(() => {
  server.stop(true);
  serverV6?.stop(true);
});

describe("forbiddenAddressReason", () => {
  const cases: [string, RegExp | null][] = [
    ["127.0.0.1", /loopback/],
    ["127.255.0.9", /loopback/],
    ["::1", /loopback/],
    ["10.1.2.3", /private/],
    ["172.16.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.168.1.1", /private/],
    ["169.254.1.1", /link-local/],
    ["fe80::1", /link-local/],
    ["100.64.0.1", /CGNAT/],
    ["fd12:3456::1", /unique-local/],
    ["fc00::1", /unique-local/],
    ["224.0.0.1", /multicast/],
    ["ff02::1", /multicast/],
    ["0.0.0.0", /unspecified/],
    ["::", /unspecified/],
    ["255.255.255.255", /broadcast/],
    ["169.254.169.254", /cloud metadata/],
    ["fd00:ec2::254", /cloud metadata/],
    ["100.100.100.200", /cloud metadata/],
    ["::ffff:127.0.0.1", /loopback/],
    ["::ffff:169.254.169.254", /cloud metadata/],
    ["64:ff9b::a00:1", /special-purpose/],
    ["2002:7f00:1::", /special-purpose/],
    ["8.8.8.8", null],
    ["1.1.1.1", null],
    ["172.32.0.1", null],
    ["2606:4700:4700::1111", null],
    ["not-an-ip", /not an IP/],
  ];
  for (const [address, reason] of cases) {
    test(`${address} → ${reason ?? "allowed"}`, () => {
      const got = forbiddenAddressReason(address);
      if (reason) expect(got).toMatch(reason);
      else expect(got).toBeNull();
    });
  }
});

describe("checkWebhookUrl", () => {
  test("public literal addresses over http and https pass", async () => {
    expect((await checkWebhookUrl("https://8.8.8.8/hook")).href).toBe("https://8.8.8.8/hook");
    expect((await checkWebhookUrl("http://[2606:4700:4700::1111]:8080/x")).port).toBe("8080");
  });

  test("localhost resolves (real DNS) to loopback and is refused, naming the address", async () => {
    const err = await rejection(checkWebhookUrl(`http://localhost:${server.port}/hook`));
    expect(err).toBeInstanceOf(WebhookUrlError);
    expect(err.code).toBe("WEBHOOK_URL_FORBIDDEN");
    expect(err.message).toMatch(/(127\.0\.0\.1|::1) \(resolved from localhost\) is a loopback address/);
    expect(err.message).toContain("WEBHOOK_ALLOWED_PRIVATE_HOSTS");
  });

  test("literal private, metadata and obfuscated loopback addresses are refused", async () => {
    for (const [url, address] of [
      ["http://127.0.0.1:3000/", "127.0.0.1"],
      ["http://[::1]/", "::1"],
      ["http://169.254.169.254/latest/meta-data/", "169.254.169.254"],
      ["http://10.0.0.5/", "10.0.0.5"],
      ["http://0x7f000001/", "127.0.0.1"],
      ["http://2130706433/", "127.0.0.1"],
      ["http://[::ffff:7f00:1]/", "::ffff:7f00:1"],
      ["https://0.0.0.0/", "0.0.0.0"],
    ] as const) {
      const err = await rejection(checkWebhookUrl(url));
      expect(err.code).toBe("WEBHOOK_URL_FORBIDDEN");
      expect(err.address).toBe(address);
      expect(err.message).toContain(address);
    }
  });

  test("schemes other than http(s), credentials and non-URLs are invalid", async () => {
    for (const url of [
      "ftp://8.8.8.8/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "not a url",
      "https://user:pw@8.8.8.8/",
    ]) {
      expect((await rejection(checkWebhookUrl(url))).code).toBe("WEBHOOK_URL_INVALID");
    }
  });

  test("a name that does not resolve is reported as such", async () => {
    const err = await rejection(checkWebhookUrl("https://no-such-host.invalid/hook"));
    expect(err.code).toBe("WEBHOOK_URL_UNRESOLVABLE");
    expect(err.message).toContain("no-such-host.invalid");
  });

  test("WEBHOOK_ALLOWED_PRIVATE_HOSTS exempts exactly the named hosts", async () => {
    const allowed = parseAllowedHosts(" localhost, 127.0.0.1 ,[::1],, ");
    expect([...allowed].sort()).toEqual(["127.0.0.1", "::1", "localhost"]);
    const opts = { allowedPrivateHosts: allowed };
    await checkWebhookUrl(`http://localhost:${server.port}/hook`, opts);
    await checkWebhookUrl(`http://LOCALHOST:${server.port}/hook`, opts);
    await checkWebhookUrl("http://127.0.0.1/", opts);
    await checkWebhookUrl("http://[::1]/", opts);
    // Exempting one loopback spelling does not exempt another address.
    expect((await rejection(checkWebhookUrl("http://127.0.0.2/", opts))).code).toBe("WEBHOOK_URL_FORBIDDEN");
    expect((await rejection(checkWebhookUrl("http://10.0.0.1/", opts))).code).toBe("WEBHOOK_URL_FORBIDDEN");
  });
});

describe("createGuardedAgent (send time)", () => {
  async function send(url: string, agent: ReturnType<typeof createGuardedAgent>) {
    const res = await request(url, { method: "POST", body: "{}", dispatcher: agent });
    return { status: res.statusCode, text: await res.body.text() };
  }

  test("connects to an allowed host, resolved by name or given as a literal", async () => {
    const agent = createGuardedAgent({ allowedPrivateHosts: parseAllowedHosts("localhost,127.0.0.1") });
    expect(await send(`http://localhost:${server.port}/hook`, agent)).toEqual({ status: 200, text: "received" });
    expect(await send(`http://127.0.0.1:${server.port}/hook`, agent)).toEqual({ status: 200, text: "received" });
    await agent.close();
  });

  test("refuses a name that resolves to loopback at connect time (as after DNS rebinding)", async () => {
    // The URL could have passed creation while the name pointed elsewhere; what counts is the
    // address the connection would use now.
    const agent = createGuardedAgent();
    const err = await rejection(send(`http://localhost:${server.port}/hook`, agent));
    expect(err.code).toBe("WEBHOOK_URL_FORBIDDEN");
    expect(err.message).toMatch(/loopback/);
    await agent.close();
  });

  test("refuses literal loopback addresses, which never go through DNS", async () => {
    const agent = createGuardedAgent({ allowedPrivateHosts: parseAllowedHosts("localhost") });
    const err = await rejection(send(`http://127.0.0.1:${server.port}/hook`, agent));
    expect(err.code).toBe("WEBHOOK_URL_FORBIDDEN");
    expect(err.address).toBe("127.0.0.1");
    if (serverV6) {
      const v6 = await rejection(send(`http://[::1]:${serverV6.port}/hook`, agent));
      expect(v6.code).toBe("WEBHOOK_URL_FORBIDDEN");
      const allowV6 = createGuardedAgent({ allowedPrivateHosts: parseAllowedHosts("[::1]") });
      expect((await send(`http://[::1]:${serverV6.port}/hook`, allowV6)).text).toBe("received over IPv6");
      await allowV6.close();
    }
    await agent.close();
  });
});
