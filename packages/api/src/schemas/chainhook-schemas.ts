import { z } from "@hono/zod-openapi";
import { StreamSchema } from "./stream-schemas.ts";

// The Chainhook import route's shapes. The predicate is taken as any JSON object here: the shared
// translator checks it, so every problem is reported with its path into the predicate.

export const ChainhookPredicateBody = z.record(z.string(), z.unknown()).openapi("ChainhookPredicate", {
  description:
    'A Hiro Chainhook 1.x Stacks predicate: {chain: "stacks", uuid, name, version, networks: {<network>: ' +
    "{if_this, then_that: {http_post: {url, authorization_header}}, start_block?, end_block?, blocks?, " +
    "expire_after_occurrence?, decode_clarity_values?, include_contract_abi?}}}. Scopes: txid, " +
    "block_height, contract_call, contract_deployment, print_event, ft_event, nft_event, stx_event.",
  example: {
    chain: "stacks",
    uuid: "1",
    name: "swaps",
    version: 1,
    networks: {
      mainnet: {
        if_this: {
          scope: "contract_call",
          contract_identifier: "SP3K8BC0PPEVCV7NZ6QSRWPQ2JE9E5B6N3PA0KBR9.swap-helper-v1-03",
          method: "swap-helper",
        },
        then_that: { http_post: { url: "https://example.com/hooks/swaps", authorization_header: "" } },
        start_block: 40000,
      },
    },
  },
});

const flag = (description: string) => z.enum(["true", "false"]).optional().openapi({ description });

export const ChainhookImportQuery = z.object({
  network: z
    .enum(["mainnet", "testnet", "devnet"])
    .optional()
    .openapi({
      description:
        "The predicate's network to import. Required when it has several; without it, a single-network " +
        "predicate must be for the deployment's STACKS_NETWORK.",
    }),
  name: z.string().min(1).max(200).optional().openapi({ description: "The stream's name (default: the predicate's)" }),
  dropAuthorizationHeader: flag(
    "Accept deliveries without the predicate's authorization_header: they are signed with Standard Webhooks instead",
  ),
  ignoreExpireAfterOccurrence: flag(
    "Accept that the stream keeps delivering after expire_after_occurrence matches (streams do not expire)",
  ),
});

export const ImportedChainhookSchema = z
  .object({
    stream: StreamSchema,
    secret: z.string().openapi({ description: "The Standard Webhooks signing secret (whsec_...). Shown once." }),
    translatedFrom: z.object({ uuid: z.string(), name: z.string() }),
    notes: z.array(z.string()).openapi({
      description: "How the stream differs from the predicate in what is delivered and how; read them once",
    }),
  })
  .openapi("ImportedChainhook");
