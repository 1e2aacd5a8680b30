export {
  HookbusClient,
  type ListQuery,
  type PublishAnswer,
  type PublishOptions,
  type FollowOptions,
  type ReplayRunOptions,
  type ResealSummary,
} from "./client.js";
export { HookbusApiError, HookbusUnreachableError } from "./errors.js";
export type { HookbusClientOptions } from "./transport.js";
export { verifyWebhook, type WebhookHeaders } from "./verify.js";
