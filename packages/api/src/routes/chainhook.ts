import { createRoute } from "@hono/zod-openapi";
import { type StreamFieldSources, translateChainhookPredicate } from "@second-layer/shared/streams/chainhook";
import { type FieldIssue, StreamValidationError } from "@second-layer/shared/streams/filters";
import { createStream } from "@second-layer/shared/streams/store";
import { ApiError, COMMON_ERRORS } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { body, json, security } from "../http/openapi-parts.ts";
import { ChainhookImportQuery, ChainhookPredicateBody, ImportedChainhookSchema } from "../schemas/chainhook-schemas.ts";
import { publicStream } from "../streams/public-stream.ts";

/** A 400 whose details point into the predicate. */
function untranslatable(details: FieldIssue[]): ApiError {
  const first = details[0];
  const more = details.length > 1 ? ` (+${details.length - 1} more)` : "";
  return new ApiError(
    400,
    "UNTRANSLATABLE_PREDICATE",
    `cannot import this Chainhook predicate: ${first?.path}: ${first?.message}${more}`,
    details,
  );
}

/** A store problem with a stream field (`webhookUrl`) at the predicate field it came from. */
function inPredicate(issue: FieldIssue, sources: StreamFieldSources): FieldIssue {
  const source = sources[issue.path as keyof StreamFieldSources];
  return source ? { ...issue, path: source } : issue;
}

/** POST /api/streams/import/chainhook: a Chainhook predicate becomes the equivalent stream. */
export function registerChainhookRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/streams/import/chainhook",
      tags: ["streams"],
      summary: "Create the stream equivalent to a Hiro Chainhook Stacks predicate",
      description:
        "Translates the predicate's scope into filters, start_block/end_block into the stream's range and " +
        "then_that.http_post.url into its webhook URL. What cannot be carried over exactly (matches_regex, " +
        "implement_trait, file_append, ...) is refused with 400 UNTRANSLATABLE_PREDICATE, each detail's path " +
        "pointing into the predicate. See docs/streams.md, Migrating from Chainhook.",
      security,
      request: { query: ChainhookImportQuery, body: body(ChainhookPredicateBody) },
      responses: {
        201: json(ImportedChainhookSchema, "The stream, its secret (shown once), and how it differs"),
        ...COMMON_ERRORS,
        400: {
          description:
            "The predicate cannot be imported (UNTRANSLATABLE_PREDICATE; details[].path points into it), or " +
            "the query is invalid (VALIDATION_FAILED)",
          content: COMMON_ERRORS[400].content,
        },
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const translation = translateChainhookPredicate(c.req.valid("json"), {
        network: query.network,
        deploymentNetwork: deps.streams.defaultNetwork,
        dropAuthorizationHeader: query.dropAuthorizationHeader === "true",
        ignoreExpireAfterOccurrence: query.ignoreExpireAfterOccurrence === "true",
      });
      if (!translation.ok) throw untranslatable(translation.issues);
      const { stream: translated, sources } = translation;
      const named = query.name === undefined ? sources : { ...sources, name: "query.name" };
      let created: Awaited<ReturnType<typeof createStream>>;
      try {
        created = await createStream(
          deps.db.sql,
          c.get("caller").accountId,
          { ...translated, name: query.name ?? translated.name },
          deps.streams,
        );
      } catch (err) {
        if (err instanceof StreamValidationError) throw untranslatable(err.details.map((d) => inPredicate(d, named)));
        throw err;
      }
      return c.json(
        {
          stream: publicStream(created.stream),
          secret: created.secret,
          translatedFrom: translation.translatedFrom,
          notes: translation.notes,
        },
        201,
      );
    },
  );
}
