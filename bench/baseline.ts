// The API overhead baseline: a bare node:http server that does the database and queue work of
// `POST /v1/emails` (one recipient) and `POST /v1/otp/verify` by calling the same core functions
// the API ends in, and nothing else: no framework, routing, validation, authentication, limits,
// suppression list, idempotency, template checks or request logging.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Actor, Notification, Otp } from "@pregon/core";
import { settings } from "./stack";

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function reply(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/**
 * The notification, its delivery and its outbox rows in one transaction; then the SNS publish
 * (the transaction's after-commit effect).
 */
async function sendEmail(input: Record<string, unknown>) {
  const to = (input.to as string[])[0]!;
  const written = await Notification.write({
    channel: "email",
    content: {
      from: settings.email.from,
      replyTo: null,
      subject: input.subject,
      html: input.html ?? null,
      text: input.text ?? null,
    },
    variables: (input.variables as Record<string, unknown>) ?? {},
    tags: {},
    recipients: [{ position: 0, address: to, name: null, variables: null, status: "queued" }],
    counts: { accepted: 1, suppressed: 0, duplicates: 0 },
  });
  return { id: written.id };
}

export interface Baseline {
  url: string;
  close(): Promise<void>;
}

/** `POST /emails` and `POST /verify` for one project, on a free loopback port. */
export async function startBaseline(projectId: string): Promise<Baseline> {
  // Core reads the project from the actor, as the API's authentication provides it.
  const actor = { type: "system", reason: "cli", projectId } as const;
  const server = createServer((request, response) => {
    readJson(request)
      .then((input) =>
        Actor.provide(actor, async () => {
          if (request.url === "/emails") return reply(response, 202, await sendEmail(input));
          if (request.url === "/verify") {
            return reply(response, 200, await Otp.verify(String(input.id), String(input.code)));
          }
          reply(response, 404, {});
        }),
      )
      .catch((error) => reply(response, 500, { message: String(error) }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
