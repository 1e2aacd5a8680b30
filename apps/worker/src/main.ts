import { ConfigError, createLogger, loadConfig } from "@hookbus/core";
import { startWorker } from "./worker.js";

const logger = createLogger("hookbus-worker", process.env.LOG_LEVEL ?? "info");

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.redisUrl) throw new ConfigError("REDIS_URL is required to run the worker on its own");
  const worker = await startWorker({ ...config, redisUrl: config.redisUrl }, { logger });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing attempts in flight");
    await worker.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else logger.fatal({ err: error }, "worker failed to start");
  process.exit(1);
});
