import { ConfigError, createLogger, loadConfig } from "@hookbus/core";
import { startIngest } from "./server.js";

const logger = createLogger("hookbus-ingest", process.env.LOG_LEVEL ?? "info");

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.redisUrl) throw new ConfigError("REDIS_URL is required to run the ingest on its own");
  if (config.apiKeys.length === 0) throw new ConfigError("HOOKBUS_API_KEYS is required: comma-separated role:key, role admin or publisher");
  const ingest = await startIngest({ ...config, redisUrl: config.redisUrl }, { logger });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    await ingest.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else logger.fatal({ err: error }, "ingest failed to start");
  process.exit(1);
});
