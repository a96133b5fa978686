import { arg, type Subcommand } from "./api-command.ts";
import { EXIT } from "./cli-errors.ts";
import { fields, json, table } from "./output.ts";

// `sl keys ...`: API keys of the key's account (any account's with an admin key and --account).

export const keysCommands: Record<string, Subcommand> = {
  create: {
    usage: "--name N [--account ACCOUNT_ID]",
    summary: "a new API key, printed once",
    options: { name: { type: "string" }, account: { type: "string" } },
    async run(ctx, _p, values) {
      const created = await ctx.sl.keys.create({
        name: (values.name as string | undefined) ?? "",
        accountId: values.account as string | undefined,
      });
      if (ctx.json) ctx.out(json(created));
      else {
        ctx.out(
          fields([
            ["key", created.key],
            ["id", created.apiKey.id],
            ["name", created.apiKey.name],
            ["account", created.apiKey.accountId],
          ]),
        );
        ctx.note("The key is shown once: store it now.\n");
      }
      return EXIT.ok;
    },
  },
  list: {
    usage: "[--account ACCOUNT_ID]",
    summary: "the account's keys (prefixes only, never the keys)",
    options: { account: { type: "string" } },
    async run(ctx, _p, values) {
      const { keys } = await ctx.sl.keys.list({ accountId: values.account as string | undefined });
      if (ctx.json) ctx.out(json(keys));
      else {
        ctx.out(
          table(
            ["ID", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
            keys.map((k) => [k.id, k.name, k.prefix, k.createdAt, k.lastUsedAt, k.revokedAt]),
          ),
        );
      }
      return EXIT.ok;
    },
  },
  revoke: {
    usage: "KEY_ID",
    summary: "revoke a key (it stops working within seconds)",
    async run(ctx, p) {
      const id = arg(p, 0, "KEY_ID", "sl keys revoke KEY_ID");
      await ctx.sl.keys.revoke(id);
      ctx.out(ctx.json ? json({ revoked: id }) : `revoked ${id}\n`);
      return EXIT.ok;
    },
  },
};
