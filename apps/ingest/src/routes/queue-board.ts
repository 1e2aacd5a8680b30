import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { ErrorRequestHandler, RequestHandler, Router } from "express";
import type { HookbusContext } from "@hookbus/core/runtime";
import { HttpError } from "../http-errors.js";

export const QUEUE_BOARD_PATH = "/admin/queues";

/**
 * Bull Board over Hookbus's queues, for admins: a browser asks for the admin key as the
 * password of a Basic auth prompt.
 */
export function queueBoardRouter(
  context: HookbusContext,
  requireAdmin: RequestHandler[],
): [string, ...(RequestHandler | ErrorRequestHandler | Router)[]] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  const { route, deliver, deliverSync, replay } = context.queues;
  createBullBoard({
    queues: [route, deliver, deliverSync, replay].map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
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
  return [QUEUE_BOARD_PATH, ...requireAdmin, serverAdapter.getRouter() as Router, challenge];
}
