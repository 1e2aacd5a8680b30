export * from "./replay.js";
export * from "./routing.js";
export * from "./subscription-lifecycle.js";
export * from "./erasure-audit.js";
export * from "./ordering.js";
export * from "./erasure.js";
