export * from "./events.js";
export * from "./subscriptions.js";
export * from "./errors.js";
