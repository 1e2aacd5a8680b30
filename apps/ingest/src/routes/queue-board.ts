import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { ErrorRequestHandler, Express, RequestHandler, Router } from "express";
import type { HookbusContext } from "@hookbus/core/runtime";
import { HttpError } from "../http-errors.js";
import { boardChangeGuard, boardPageHeaders } from "./queue-board-guard.js";

export const QUEUE_BOARD_PATH = "/admin/queues";

/**
 * Bull Board over Hookbus's queues, for admins: a browser asks for the admin key as the
 * password of a Basic auth prompt. Read-only unless HOOKBUS_QUEUE_BOARD_WRITABLE is set.
 */
export function queueBoardRouter(
  context: HookbusContext,
  requireAdmin: RequestHandler[],
): [string, ...(RequestHandler | ErrorRequestHandler | Router)[]] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  const { partitions, replay, erasure, schedule } = context.queues;
  const writable = context.config.queueBoardWritable;
  // A partition's queues after the first are named with its number: `p2.route`.
  const partitionQueues = partitions.flatMap(({ route, deliver, deliverSync }, partition) =>
    [route, deliver, deliverSync].map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: !writable, prefix: partition > 0 ? `p${partition}.` : "" }),
    ),
  );
  createBullBoard({
    queues: [...partitionQueues, ...[replay, erasure, schedule].map((queue) => new BullMQAdapter(queue, { readOnlyMode: !writable }))],
    serverAdapter,
    options: { uiConfig: { boardTitle: "Hookbus queues" } },
  });
  // A 401 here asks the browser to prompt for the key.
  const challenge: ErrorRequestHandler = (error, _request, response, next) => {
    if (error instanceof HttpError && error.status === 401) {
      response.setHeader("WWW-Authenticate", 'Basic realm="Hookbus admin", charset="UTF-8"');
    }
    next(error);
  };
  // The board is an express app of its own, which would announce itself in X-Powered-By.
  const board = (serverAdapter.getRouter() as Express).disable("x-powered-by");
  return [QUEUE_BOARD_PATH, boardPageHeaders, ...requireAdmin, boardChangeGuard(writable), board, challenge];
}
