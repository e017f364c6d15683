// The API overhead baseline: a bare node:http server that does the database and queue work of
// `GET /v1/me`, `POST /v1/emails` (one recipient) and `POST /v1/otp/verify` by calling the same
// core functions the API ends in, and nothing else: no framework, routing, validation, limits,
// suppression list, idempotency, template checks or request logging. Only `/me` authenticates
// (the key lookup is what it measures); the others write for a fixed project.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Actor, ApiKey, Notification, Otp, Project } from "@pregon/core";
import { settings } from "./settings";

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
    counts: { accepted: 1, suppressed: 0, unsubscribed: 0, duplicates: 0 },
  });
  return { id: written.id };
}

/** The key's lookup, then its project and its row, as `me.get` reads them. */
async function me(authorization: string | undefined) {
  const secret = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
  const principal = await ApiKey.authenticate(secret);
  const actor = { type: "key", requestId: "baseline", ...principal } as const;
  return Actor.provide(actor, async () => {
    const [project, key] = await Promise.all([
      Project.get(principal.projectId),
      ApiKey.get(principal.keyId),
    ]);
    return {
      project: { id: project.id, name: project.name },
      key: { id: key.id, name: key.name, hint: key.hint },
      scopes: key.scopes,
    };
  });
}

export interface Baseline {
  url: string;
  close(): Promise<void>;
}

/** `GET /me`, and `POST /emails` and `POST /verify` for one project, on a free loopback port. */
export async function startBaseline(projectId: string): Promise<Baseline> {
  // Core reads the project from the actor, as the API's authentication provides it.
  const actor = { type: "system", reason: "cli", projectId } as const;
  const server = createServer((request, response) => {
    if (request.url === "/me") {
      me(request.headers.authorization).then(
        (body) => reply(response, 200, body),
        (error) => reply(response, 401, { message: String(error) }),
      );
      return;
    }
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
