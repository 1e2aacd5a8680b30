import { Router } from "express";
import type { HookbusContext } from "@hookbus/core/runtime";
import { resealBody, type KeyUsageView, type ResealResult } from "@hookbus/schemas";
import { recordAudit } from "../audit-record.js";
import { parseOr422 } from "../validate.js";
import type { Guards } from "./guards.js";

/** The keys subscriptions' secrets are sealed with, and the reseal that lets an old one be dropped. */
export function secretsRouter(context: HookbusContext, guards: Guards): Router {
  const router = Router();
  const keyUsage = async (): Promise<KeyUsageView> => {
    const { byKey, unsealed } = await context.subscriptions.keyUsage();
    const { encryption } = context.config;
    return {
      sealingKeyId: encryption.sealingKeyId,
      keys: [...byKey].map(([id, subscriptions]) => ({ id, subscriptions, held: encryption.holds(id) })),
      unsealed,
    };
  };

  router.get("/v1/secrets/keys", ...guards.operator, async (_request, response) => {
    response.json(await keyUsage());
  });

  router.post("/v1/secrets/reseal", ...guards.operator, async (request, response) => {
    const { cursor, limit } = parseOr422(resealBody, request.body ?? {}, "reseal request");
    const page = await context.subscriptions.resealPage(limit, cursor);
    // With the last page, the erasure index too: its sets are named by hashes keyed like the secrets.
    const reindexed = page.nextCursor === undefined ? await context.participants.rekeyAll() : 0;
    await recordAudit(context, request, {
      action: "secrets.reseal",
      resourceType: "secrets",
      resourceId: context.config.encryption.sealingKeyId,
      after: { checked: page.checked, resealed: page.resealed, unreadable: page.unreadable.length, reindexed, cursor: cursor ?? null },
    });
    response.json({ ...page, nextCursor: page.nextCursor ?? null, reindexed, keys: await keyUsage() } satisfies ResealResult);
  });
  return router;
}
