export * from "./config.js";
export * from "./context.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./outage-log.js";
export * from "./service.js";
export * from "./key-check.js";
export * from "./partition-check.js";
