import { ConfigError, runService } from "@hookbus/core/runtime";
import { startIngest } from "./server.js";

runService(
  "hookbus-ingest",
  (config, logger) => startIngest(config, { logger }),
  (config) => {
    if (config.apiKeys.length === 0)
      throw new ConfigError("HOOKBUS_API_KEYS is required: comma-separated role:key or name=role:key, role admin or publisher");
  },
);
