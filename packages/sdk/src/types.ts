import type { components } from "./api-types.ts";

// Names for the API's schemas (generated from its OpenAPI document).
type Schemas = components["schemas"];

export type Account = Schemas["Account"];
export type ApiKey = Schemas["ApiKey"];
export type Block = Schemas["Block"];
export type BlockRef = Schemas["BlockRef"];
export type BlockSummary = Schemas["BlockSummary"];
export type BlockTransactions = Schemas["BlockTransactions"];
export type ChainEvent = Schemas["ChainEvent"];
export type ChainEventList = Schemas["ChainEventList"];
export type ChainhookPredicate = Schemas["ChainhookPredicate"];
export type CreateStream = Schemas["CreateStream"];
export type CreatedStream = Schemas["CreatedStream"];
export type Delivery = Schemas["Delivery"];
export type DeliveryAttempt = Schemas["DeliveryAttempt"];
export type DeliveryAttemptEvent = Schemas["DeliveryAttemptEvent"];
export type DeliveryDetail = Schemas["DeliveryDetail"];
export type DeliveryQueuedEvent = Schemas["DeliveryQueuedEvent"];
export type ImportedChainhook = Schemas["ImportedChainhook"];
export type MempoolTransaction = Schemas["MempoolTransaction"];
export type Reorg = Schemas["Reorg"];
export type RotatedSecret = Schemas["RotatedSecret"];
export type Status = Schemas["Status"];
export type Stream = Schemas["Stream"];
export type StreamOptions = Schemas["StreamOptions"];
export type StreamStats = Schemas["StreamStats"];
export type TestDelivery = Schemas["TestDelivery"];
export type Transaction = Schemas["Transaction"];
export type TransactionDetail = Schemas["TransactionDetail"];
export type UpdateStream = Schemas["UpdateStream"];
export type Network = "mainnet" | "testnet" | "devnet";
