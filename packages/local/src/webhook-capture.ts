import { Hono } from "hono";

export interface CapturedWebhook {
  /** The path under `/dev/webhooks/receive/` it was POSTed to (one per endpoint, if you like). */
  path: string;
  headers: { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };
  body: string;
  at: string;
}

/**
 * The local stack's webhook receiver: endpoints pointed at `/dev/webhooks/receive/<anything>` get
 * a 204, and `GET /dev/webhooks` shows what came, as the mailbox shows emails. In memory, newest
 * last, 1,000 at most.
 */
export function createWebhookCapture(keep = 1_000) {
  const received: CapturedWebhook[] = [];
  const app = new Hono();
  app.post("/dev/webhooks/receive/*", async (c) => {
    received.push({
      path: c.req.path.slice("/dev/webhooks/receive".length) || "/",
      headers: {
        "webhook-id": c.req.header("webhook-id") ?? "",
        "webhook-timestamp": c.req.header("webhook-timestamp") ?? "",
        "webhook-signature": c.req.header("webhook-signature") ?? "",
      },
      body: await c.req.text(),
      at: new Date().toISOString(),
    });
    if (received.length > keep) received.shift();
    return c.body(null, 204);
  });
  app.get("/dev/webhooks", (c) => c.json({ received }));
  return app;
}
