#!/usr/bin/env bun
// `sl`: the Second Layer command line. Run as `bun run sl <command>` (or `bun run replay ...`).
import { parseArgs } from "node:util";
import { readEventLog } from "@second-layer/shared/event-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { runGroup, runSubcommand, type Subcommand } from "./api/api-command.ts";
import { describeError, EXIT } from "./api/cli-errors.ts";

const USAGE = `Usage: sl <command> [options]        (docs/cli.md; sl <group> help for a group's commands)

API commands (through the SDK; --api-url, --api-key, --json):
  streams create|list|get|update|delete|pause|resume|disable|enable|replay|redeliver|rotate-secret|test
  streams logs ID [--follow]    a stream's deliveries; live deliveries and attempts with --follow
  streams import-chainhook FILE create the stream equivalent to a Chainhook predicate
  views deploy FILE.json|FILE.ts deploy a view (or update the one of that name)
  views list|get|reindex|delete views; reindex shows a progress bar until the view catches up
  views query NAME TABLE [--where col.gt=1]... [--sort C] [--order O] [--limit N]   a table's rows
  keys create|list|revoke       API keys
  status                        the API's status; exits 2 when degraded
  chain follow [--after SEQ]    the chain log live, every apply and rollback

Operator commands (DATABASE_URL, or an indexer URL):
  replay FILE [--to URL]        post a recorded event log to an indexer, in order (default --to http://127.0.0.1:3700)
  reprocess [--id N] [--all]    re-run journaled bodies that failed (or every body with --all) through today's code
  export [--from ID] [--out F]  write the journal as an event log (the replay/backfill import format)
  integrity                     print the integrity report of STACKS_NETWORK as JSON
  rebuild [--from H] [--to H]   re-derive stored blocks' rows from the journal with today's decoder
          [--restart]           (resumes an interrupted run of the same range unless --restart)
  init-secrets --dir DIR        generate SECRETS_KEY and the admin API key into DIR once (prints the key once)
`;

const [command, ...rest] = process.argv.slice(2);

/** The API command groups: `sl <group> <subcommand>`. */
const API_GROUPS: Record<string, () => Promise<Record<string, Subcommand>>> = {
  streams: async () => (await import("./api/streams-command.ts")).streamsCommands,
  keys: async () => (await import("./api/keys-command.ts")).keysCommands,
  chain: async () => (await import("./api/chain-command.ts")).chainCommands,
  views: async () => (await import("./api/views-command.ts")).viewsCommands,
};

async function main(): Promise<number> {
  const group = command !== undefined && Object.hasOwn(API_GROUPS, command) ? API_GROUPS[command] : undefined;
  if (group && command) return await runGroup(command, await group(), rest);
  switch (command) {
    case "status":
      return await runSubcommand("status", (await import("./api/status-command.ts")).statusCommand, rest);
    case "replay":
      return await replayCommand(rest);
    case "reprocess":
      return await (await import("./reprocess-command.ts")).reprocessCommand(rest);
    case "export":
      return await (await import("./export-command.ts")).exportCommand(rest);
    case "integrity":
      return await (await import("./integrity-command.ts")).integrityCommand();
    case "rebuild":
      return await (await import("./rebuild-command.ts")).rebuildCommand(rest);
    case "init-secrets":
      return await (await import("./init-secrets-command.ts")).initSecretsCommand(rest);
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      return command ? 0 : 1;
    default:
      process.stderr.write(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
      return EXIT.usage;
  }
}

async function replayCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: "string", default: "http://127.0.0.1:3700" },
      quiet: { type: "boolean", default: false },
    },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write("replay: missing FILE (a .tsv event log)\n");
    return 1;
  }
  const rows = readEventLog(file);
  process.stderr.write(`replaying ${rows.length} rows from ${file} to ${values.to}\n`);
  const step = Math.max(1, Math.floor(rows.length / 20));
  const summary = await replayEventLog(rows, {
    to: values.to,
    onProgress: (done, total, row) => {
      if (!values.quiet && (done % step === 0 || done === total)) {
        process.stderr.write(`  ${done}/${total} (${Math.round((done / total) * 100)}%) last ${row.path} #${row.id}\n`);
      }
    },
  });
  const seconds = summary.elapsedMs / 1000;
  process.stdout.write(
    `${JSON.stringify({ file, ...summary, rowsPerSecond: Math.round(summary.posted / Math.max(seconds, 1e-9)) }, null, 2)}\n`,
  );
  return summary.rejected.length > 0 ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const { code, lines } = describeError(err);
    process.stderr.write(`sl ${command}: ${lines.join("\n")}\n`);
    process.exit(code);
  },
);
