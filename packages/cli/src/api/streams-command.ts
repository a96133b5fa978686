import type { CreateStream, Delivery, Stream, StreamLogEvent, UpdateStream } from "@second-layer/sdk";
import {
  type ApiContext,
  arg,
  intOption,
  parseJson,
  readJsonFile,
  type Subcommand,
  type Values,
} from "./api-command.ts";
import { EXIT, UsageError } from "./cli-errors.ts";
import { type Cell, fields, json, jsonLine, table } from "./output.ts";

// `sl streams ...`: every stream route of the API through the SDK.

const ID = "STREAM_ID";

const definitionOptions = {
  file: { type: "string" },
  name: { type: "string" },
  url: { type: "string" },
  filter: { type: "string", multiple: true },
  options: { type: "string" },
  "end-block": { type: "string" },
  confirmations: { type: "string" },
} as const;

/** A stream definition from `--file` (a JSON body) with the flags given on top of it. */
function definition(values: Values): Record<string, unknown> {
  const base = values.file === undefined ? {} : readJsonFile(values.file as string);
  if (typeof base !== "object" || base === null || Array.isArray(base)) {
    throw new UsageError(`${values.file} must hold a JSON object (a stream definition)`);
  }
  const out: Record<string, unknown> = { ...base };
  if (values.name !== undefined) out.name = values.name;
  if (values.url !== undefined) out.webhookUrl = values.url;
  if (values.filter !== undefined) {
    out.filters = (values.filter as string[]).map((f, i) => parseJson(f, `--filter #${i + 1}`));
  }
  if (values.options !== undefined) out.options = parseJson(values.options as string, "--options");
  const endBlock = intOption(values, "end-block");
  if (endBlock !== undefined) out.endBlock = endBlock;
  const confirmations = intOption(values, "confirmations");
  if (confirmations !== undefined) out.confirmations = confirmations;
  return out;
}

function streamFields(s: Stream): string {
  const rows: [string, Cell][] = [
    ["id", s.id],
    ["name", s.name],
    ["status", s.statusReason ? `${s.status} (${s.statusReason})` : s.status],
    ["network", s.network],
    ["webhook url", s.webhookUrl],
    ["filters", JSON.stringify(s.filters)],
    ["options", JSON.stringify(s.options)],
    ["start block", s.startBlock],
    ["end block", s.endBlock],
    ["confirmations", s.confirmations],
    ["created", s.createdAt],
  ];
  if (s.stats) {
    rows.push(
      ["delivered", s.stats.delivered],
      ["pending", s.stats.pending],
      ["parked (failed)", s.stats.parked],
      ["last seq", s.stats.lastDeliveredSeq],
      ["last delivered", s.stats.lastDeliveredAt],
      ["lag (blocks)", s.stats.lagBlocks],
      ["last error", s.stats.lastError],
    );
  }
  return fields(rows);
}

/** A stream (or an action's answer) as JSON or as fields. */
function showStream(ctx: ApiContext, stream: Stream): number {
  ctx.out(ctx.json ? json(stream) : streamFields(stream));
  return EXIT.ok;
}

function showCreated(ctx: ApiContext, created: { stream: Stream; secret: string }, extra: string[] = []): number {
  if (ctx.json) {
    ctx.out(json(created));
    return EXIT.ok;
  }
  ctx.out(streamFields(created.stream));
  ctx.out(fields([["secret", created.secret]]));
  ctx.note(`The signing secret is shown once: keep it where your receiver can read it.\n${extra.join("")}`);
  return EXIT.ok;
}

function deliveryRows(deliveries: Delivery[]): string {
  return table(
    ["SEQ", "KIND", "STATUS", "HEIGHT", "ATTEMPTS", "LAST", "DELIVERED", "ERROR", "ID"],
    deliveries.map((d) => [
      d.seq,
      d.kind,
      d.status,
      d.blockHeight,
      d.attempts,
      d.lastStatus,
      d.deliveredAt,
      d.lastError,
      d.id,
    ]),
  );
}

function logLine(e: StreamLogEvent): string {
  const time = (iso: string) => iso.slice(11, 19);
  if (e.type === "delivery.queued") {
    const d = e.data;
    const held = d.heldUntilBurnHeight === null ? "" : ` held until burn block ${d.heldUntilBurnHeight}`;
    return `${time(d.queuedAt)} queued   ${d.kind.padEnd(8)} block ${d.blockHeight}${d.isBackfill ? " (backfill)" : ""}${held}  ${d.deliveryId}\n`;
  }
  const a = e.data;
  const outcome = a.ok ? `${a.statusCode}` : `failed: ${a.error ?? `HTTP ${a.statusCode}`}`;
  return `${time(a.startedAt)} attempt  ${a.kind.padEnd(8)} block ${a.blockHeight} seq ${a.seq} try ${a.attempt} -> ${outcome} in ${a.durationMs} ms  ${a.deliveryId}\n`;
}

const action = (summary: string, call: (ctx: ApiContext, id: string) => Promise<Stream>, name: string): Subcommand => ({
  usage: ID,
  summary,
  run: async (ctx, p) => showStream(ctx, await call(ctx, arg(p, 0, ID, `sl streams ${name} ${ID}`))),
});

export const streamsCommands: Record<string, Subcommand> = {
  create: {
    usage:
      "[--file stream.json] [--name N] [--url URL] [--filter JSON]... [--options JSON] [--network NET] [--start-block H] [--end-block H] [--confirmations N]",
    summary: "create a stream (flags override the file); prints its signing secret once",
    options: { ...definitionOptions, network: { type: "string" }, "start-block": { type: "string" } },
    async run(ctx, _p, values) {
      const body = definition(values);
      if (values.network !== undefined) body.network = values.network;
      const startBlock = intOption(values, "start-block");
      if (startBlock !== undefined) body.startBlock = startBlock;
      return showCreated(ctx, await ctx.sl.streams.create(body as CreateStream));
    },
  },
  list: {
    usage: "[--status active|paused|failed|disabled] [--limit N]",
    summary: "the streams of the key's account, every page (or the first N)",
    options: { status: { type: "string" }, limit: { type: "string" } },
    async run(ctx, _p, values) {
      const limit = intOption(values, "limit") ?? Number.POSITIVE_INFINITY;
      const streams: Stream[] = [];
      for await (const s of ctx.sl.streams.iterate({ status: values.status as Stream["status"] | undefined })) {
        if (streams.length >= limit) break;
        streams.push(s);
      }
      if (ctx.json) ctx.out(json(streams));
      else {
        ctx.out(
          table(
            ["ID", "NAME", "STATUS", "NETWORK", "WEBHOOK URL", "CREATED"],
            streams.map((s) => [s.id, s.name, s.status, s.network, s.webhookUrl, s.createdAt]),
          ),
        );
      }
      return EXIT.ok;
    },
  },
  get: action("a stream with its delivery figures", (ctx, id) => ctx.sl.streams.get(id), "get"),
  update: {
    usage: `${ID} [--file changes.json] [--name N] [--url URL] [--filter JSON]... [--options JSON] [--end-block H] [--confirmations N]`,
    summary: "change a stream",
    options: definitionOptions,
    async run(ctx, p, values) {
      const id = arg(p, 0, ID, `sl streams update ${ID} ...`);
      const changes = definition(values);
      if (Object.keys(changes).length === 0) throw new UsageError("nothing to change: give --file or a flag");
      return showStream(ctx, await ctx.sl.streams.update(id, changes as UpdateStream));
    },
  },
  delete: {
    usage: ID,
    summary: "delete a stream and its deliveries",
    async run(ctx, p) {
      const id = arg(p, 0, ID, `sl streams delete ${ID}`);
      await ctx.sl.streams.delete(id);
      ctx.out(ctx.json ? json({ deleted: id }) : `deleted ${id}\n`);
      return EXIT.ok;
    },
  },
  pause: action("pause: deliveries wait, in order", (ctx, id) => ctx.sl.streams.pause(id), "pause"),
  resume: action("resume a paused or failed stream", (ctx, id) => ctx.sl.streams.resume(id), "resume"),
  disable: action("stop matching the stream", (ctx, id) => ctx.sl.streams.disable(id), "disable"),
  enable: action("match a disabled stream again", (ctx, id) => ctx.sl.streams.enable(id), "enable"),
  replay: {
    usage: `${ID} --from H --to H`,
    summary: "send the stored blocks of a height range again (isBackfill: true)",
    options: { from: { type: "string" }, to: { type: "string" } },
    async run(ctx, p, values) {
      const id = arg(p, 0, ID, `sl streams replay ${ID} --from H --to H`);
      const fromBlock = intOption(values, "from");
      const toBlock = intOption(values, "to");
      if (fromBlock === undefined || toBlock === undefined) throw new UsageError("--from and --to are required");
      const answer = await ctx.sl.streams.replay(id, { fromBlock, toBlock });
      ctx.out(ctx.json ? json(answer) : `replay of blocks ${fromBlock}-${toBlock} queued for ${id}\n`);
      return EXIT.ok;
    },
  },
  redeliver: {
    usage: ID,
    summary: "put parked (failed) deliveries back in line",
    async run(ctx, p) {
      const answer = await ctx.sl.streams.redeliver(arg(p, 0, ID, `sl streams redeliver ${ID}`));
      ctx.out(ctx.json ? json(answer) : `${answer.redelivered} deliveries back in line\n`);
      return EXIT.ok;
    },
  },
  "rotate-secret": {
    usage: ID,
    summary: "a new signing secret (shown once); the old one keeps signing for the grace period",
    async run(ctx, p) {
      const answer = await ctx.sl.streams.rotateSecret(arg(p, 0, ID, `sl streams rotate-secret ${ID}`));
      if (ctx.json) ctx.out(json(answer));
      else {
        ctx.out(
          fields([
            ["secret", answer.secret],
            ["previous secret signs until", answer.previousSecretExpiresAt],
          ]),
        );
        ctx.note("The new secret is shown once. Receivers verify with either secret until the date above.\n");
      }
      return EXIT.ok;
    },
  },
  test: {
    usage: ID,
    summary: "send a signed stream.test webhook now; exits 2 unless the receiver answered 2xx",
    async run(ctx, p) {
      const result = await ctx.sl.streams.test(arg(p, 0, ID, `sl streams test ${ID}`));
      if (ctx.json) ctx.out(json(result));
      else {
        ctx.out(
          fields([
            ["ok", result.ok],
            ["status", result.status],
            ["duration ms", result.durationMs],
            ["error", result.error],
            ["webhook-id", result.webhookId],
          ]),
        );
      }
      return result.ok ? EXIT.ok : EXIT.failed;
    },
  },
  logs: {
    usage: `${ID} [--follow] [--status S] [--limit N] [--backlog N]`,
    summary: "the stream's deliveries (the last N, default 50); --follow: deliveries and attempts live",
    options: {
      follow: { type: "boolean", short: "f", default: false },
      status: { type: "string" },
      limit: { type: "string" },
      backlog: { type: "string" },
    },
    async run(ctx, p, values) {
      const id = arg(p, 0, ID, `sl streams logs ${ID} [--follow]`);
      if (values.follow) {
        const events = ctx.sl.streams.logs(id, {
          backlog: intOption(values, "backlog"),
          signal: ctx.signal,
          onReconnect: (r) => ctx.note(`connection lost (${r.reason}); reconnecting in ${r.delayMs} ms\n`),
        });
        for await (const e of events) ctx.out(ctx.json ? jsonLine(e) : logLine(e));
        return EXIT.ok;
      }
      const limit = intOption(values, "limit") ?? 50;
      const last: Delivery[] = [];
      for await (const d of ctx.sl.streams.iterateDeliveries(id, {
        status: values.status as Delivery["status"] | undefined,
        limit: 500,
      })) {
        last.push(d);
        if (last.length > limit) last.shift();
      }
      ctx.out(ctx.json ? json(last) : deliveryRows(last));
      return EXIT.ok;
    },
  },
  "import-chainhook": {
    usage: "FILE [--network NET] [--name N] [--drop-authorization-header] [--ignore-expire-after-occurrence]",
    summary: "create the stream equivalent to a Chainhook predicate file; prints how it differs",
    options: {
      network: { type: "string" },
      name: { type: "string" },
      "drop-authorization-header": { type: "boolean" },
      "ignore-expire-after-occurrence": { type: "boolean" },
    },
    async run(ctx, p, values) {
      const file = arg(p, 0, "FILE (a Chainhook predicate, JSON)", "sl streams import-chainhook FILE");
      const predicate = readJsonFile(file);
      if (typeof predicate !== "object" || predicate === null || Array.isArray(predicate)) {
        throw new UsageError(`${file} must hold one Chainhook predicate (a JSON object)`);
      }
      const imported = await ctx.sl.streams.importChainhook(predicate as Record<string, unknown>, {
        network: values.network as "mainnet" | "testnet" | "devnet" | undefined,
        name: values.name as string | undefined,
        dropAuthorizationHeader: values["drop-authorization-header"] as boolean | undefined,
        ignoreExpireAfterOccurrence: values["ignore-expire-after-occurrence"] as boolean | undefined,
      });
      const notes = imported.notes.map((n) => `note: ${n}\n`);
      if (ctx.json) ctx.out(json(imported));
      else
        showCreated(ctx, imported, [
          `Imported from Chainhook predicate ${imported.translatedFrom.uuid} (${imported.translatedFrom.name}).\n`,
          ...notes,
        ]);
      return EXIT.ok;
    },
  },
};
