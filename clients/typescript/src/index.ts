export { Herald, HeraldMerchant, HeraldOperator } from "./client.js";
export type {
  Account,
  AccountQuery,
  ClientOptions,
  Delivery,
  DeliveryQuery,
  Event,
  EventQuery,
  PublishEvent,
  PublishOptions,
  RequestLog,
  RequestLogQuery,
  Webhook,
} from "./client.js";
export { HeraldApiError, unwrap } from "./errors.js";
export type { ErrorDetail, FetchResult } from "./errors.js";
export { paginate } from "./paging.js";
export type { Page } from "./paging.js";
export { retryDelayMs, withRetry } from "./retry.js";
export type { RetryOptions } from "./retry.js";
export { verifyWebhook, WebhookVerificationError } from "./verify.js";
export type { DeliveryHeaders } from "./verify.js";
export type { components, operations, paths } from "./generated/schema.js";
