export * from "./primitives.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./subscriptions.js";
export * from "./deliveries.js";
export * from "./replays.js";
export * from "./api.js";
export * from "./openapi.js";
