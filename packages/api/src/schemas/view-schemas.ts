import { z } from "@hono/zod-openapi";
import { IDENT, VIEW_NAME } from "@second-layer/shared/views/definition";
import { DEFAULT_ROWS_LIMIT, MAX_ROWS_LIMIT } from "../views/row-query.ts";

// Request and response shapes of the views routes. Definitions are checked by the shared store (with
// `tables.x.columns.y` paths); here they refer to the ViewDefinition component generated from the
// same zod schema.

const definition = z.record(z.string(), z.unknown()).openapi({ $ref: "#/components/schemas/ViewDefinition" } as never);

export const ViewDefinitionBody = definition;

export const ViewProgressSchema = z
  .object({
    processedHeight: z.number().int().nullable().openapi({ description: "Height of the last block applied" }),
    chainTip: z.number().int().nullable().openapi({ description: "Height of the network's indexed tip" }),
    lagBlocks: z.number().int().openapi({ description: "Blocks between the last one applied and the tip" }),
    lastSeq: z.number().int().openapi({ description: "The chain log seq the view's tables reflect" }),
    headSeq: z.number().int().openapi({ description: "The newest chain log seq of the view's network" }),
    lagEntries: z.number().int().openapi({ description: "Chain log entries the view has yet to process" }),
    caughtUp: z.boolean(),
  })
  .openapi("ViewProgress");

export const ViewSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string().nullable(),
    network: z.enum(["mainnet", "testnet", "devnet"]),
    status: z
      .enum(["active", "error"])
      .openapi({ description: "`error`: stopped at `errorHeight`, see `statusReason`" }),
    statusReason: z.string().nullable().openapi({ description: "Why the view stopped (its last error)" }),
    errorHeight: z.number().int().nullable(),
    version: z.number().int().openapi({ description: "Moves on every change of the definition and every rebuild" }),
    startBlock: z.number().int(),
    progress: ViewProgressSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("View");

export const ViewTableSchema = z
  .object({
    name: z.string(),
    rows: z.number().int(),
    rowsExact: z.boolean().openapi({
      description:
        "True: counted. False (tables of more than 10,000 rows): Postgres's estimate as of the table's last ANALYZE",
    }),
  })
  .openapi("ViewTable");

export const ViewDetailSchema = ViewSchema.extend({
  definition,
  tables: z.array(ViewTableSchema),
}).openapi("ViewDetail");

export const ViewListSchema = z.object({ views: z.array(ViewSchema) }).openapi("ViewList");

export const UpdatedViewSchema = z
  .object({
    view: ViewDetailSchema,
    rebuilt: z.boolean().openapi({
      description: "True: the change was not additive, so the tables were emptied and are rebuilt from startBlock",
    }),
  })
  .openapi("UpdatedView");

export const ViewRowsSchema = z
  .object({
    rows: z.array(z.record(z.string(), z.unknown())).openapi({
      description:
        "Rows with the asked `_fields` (default: every column, then `_block_height` and `_tx_id`: what last wrote the row). uint and int values are decimal strings, timestamps ISO 8601",
    }),
    next: z.string().nullable().openapi({ description: "`_cursor` of the next page; null on the last" }),
  })
  .openapi("ViewRows");

export const ViewCountSchema = z.object({ count: z.number().int() }).openapi("ViewCount");

export const ViewNameParam = z.object({
  name: z
    .string()
    .regex(VIEW_NAME, "a view name is lower case letters, digits, - and _, starting with a letter")
    .openapi({ param: { name: "name", in: "path" }, example: "tokens" }),
});

export const ViewTableParam = ViewNameParam.extend({
  table: z
    .string()
    .regex(IDENT, "a table name is lower case letters, digits and _, starting with a letter")
    .openapi({ param: { name: "table", in: "path" }, example: "balances" }),
});

export const RowsQuery = z.object({
  _sort: z.string().optional().openapi({ description: "Column to sort by (default: the order rows were written in)" }),
  _order: z.enum(["asc", "desc"]).default("asc"),
  _limit: z.coerce.number().int().min(1).max(MAX_ROWS_LIMIT).default(DEFAULT_ROWS_LIMIT),
  _cursor: z
    .string()
    .optional()
    .openapi({ description: "`next` of the previous page (same filters, _sort and _order)" }),
  _fields: z.string().optional().openapi({ description: "Comma-separated columns to return" }),
});

export const FILTERS_DESCRIPTION =
  "Filters are further query parameters: `col=v` (equal), `col.ne=v`, `col.gt=v`, `col.gte=v`, `col.lt=v`, " +
  "`col.lte=v`, `col.in=a,b` (at most 100 values), `col.like=v` (text and principal columns; `%` and `_` are " +
  "wildcards). Every filter must hold. Values are read as their column's type: uint and int as decimal integers, " +
  "bool as true or false, timestamp as unix seconds or an ISO date, principal as a Stacks address; json columns " +
  "cannot be filtered. `_block_height` and `_tx_id` (what last wrote a row) can be filtered and sorted like columns. " +
  "An unknown column or a value that does not fit answers 400 naming the parameter.";
