// @second-layer/sdk: a typed client of the Second Layer API, webhook verification and payload types,
// and defineView for writing views in TypeScript.
export type { components, paths } from "./api-types.ts";
export { SecondLayer } from "./client.ts";
export { defineView, type StreamFilter, type ViewDefinition } from "./define-view.ts";
export { type ErrorDetail, SecondLayerError } from "./errors.ts";
export type { BodyOf, ClientOptions, QueryOf, ResultOf } from "./http.ts";
export { collect, paginate } from "./paginate.ts";
export type { ImportChainhookQuery, StreamLogEvent } from "./resources/streams.ts";
export {
  type ViewFilter,
  type ViewQuery,
  type ViewRowsPage,
  type ViewValue,
  viewQueryParams,
} from "./resources/views.ts";
export { type FollowOptions, type ReconnectInfo, readEventStream, type SseEvent } from "./sse.ts";
export type * from "./types.ts";
export * from "./webhooks/index.ts";
