import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { createRedis, FAIL_FAST, SubscriptionCache, SyncOutcomeListener, untilReady } from "@hookbus/core/store";
import {
  checkEncryptionKeys,
  checkPartitions,
  createContext,
  createLogger,
  createMetricsRegistry,
  type Config,
  type Logger,
  type RunConfig,
} from "@hookbus/core/runtime";
import { createIngestApp } from "./app.js";
import { IngestMetrics } from "./metrics.js";

export interface RunningIngest {
  port: number;
  url: string;
  /** The express app: its routes are checked against the OpenAPI document. */
  app: Express;
  /** What the sync waiting holds now: requests waiting, and listeners on the shared subscriber connection. */
  syncWaitStats(): { waiting: number; listeners: number };
  /** Stops accepting connections, lets requests in flight finish, then disconnects. */
  close(): Promise<void>;
}

export async function startIngest(config: RunConfig, options: { logger?: Logger } = {}): Promise<RunningIngest> {
  const logger = options.logger ?? createLogger("hookbus-ingest", config.logLevel);
  const context = createContext(config, logger, FAIL_FAST);
  await untilReady(context.redis);
  // A count this Redis cannot be run with stops the start, with nothing left open.
  await checkPartitions(context.redis, context.keys).catch(async (error: unknown) => {
    await context.close();
    throw error;
  });
  await checkEncryptionKeys(context.subscriptions, config.encryption, logger);
  // What was made before projects is the default project's: it must exist to be listed and read.
  await context.projects.ensureDefault();
  await context.participants.markStart();
  // Pub/sub needs a connection of its own; one per process serves every waiting request.
  const subscriber = createRedis(config);
  subscriber.on("error", (error: Error) => context.outages.error(error, "subscriber"));
  const registry = createMetricsRegistry("ingest");
  const syncOutcomes = new SyncOutcomeListener(subscriber, context.keys, context.deliveries, config.maxSyncWaits);
  await syncOutcomes.start();
  const subscriptionCache = new SubscriptionCache(context.subscriptions);
  await subscriptionCache.followChanges(subscriber, context.keys);
  await subscriptionCache.warm();
  const app = createIngestApp({
    context,
    subscriptionCache,
    syncOutcomes,
    registry,
    metrics: new IngestMetrics(registry),
    logger,
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, "ingest listening");
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    app,
    syncWaitStats: () => ({ waiting: syncOutcomes.waiting, listeners: subscriber.listenerCount("message") }),
    close: async () => {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeIdleConnections();
      });
      subscriptionCache.close();
      subscriber.disconnect();
      await context.close();
      logger.info("ingest stopped");
    },
  };
}
