import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { serve } from "@hono/node-server";
import { Fact, Log } from "@pregon/core";
import { validate } from "@readme/openapi-parser";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { bearer, projectWithKey, settings, until } from "../../../test/support/fixtures";
import { databaseUrl } from "../../../test/support/setup";
import { createApp, maxBodyBytes } from "./app";
import { appRouter } from "./router";

const app = createApp(settings);
const json = { "content-type": "application/json" };

async function call(method: string, path: string, secret?: string, body?: unknown) {
  const response = await app.request(path, {
    method,
    headers: { ...(secret && bearer(secret)), ...(body !== undefined && json) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe("the HTTP app", () => {
  it("answers /health without a key", async () => {
    expect(await call("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("serves a valid OpenAPI 3.1 document with the real success statuses", async () => {
    const { status, body: document } = await call("GET", "/openapi.json");
    expect(status).toBe(200);
    expect(document.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(document));
    expect(result.valid ? [] : result.errors).toEqual([]);
    // The validator does reject a broken document.
    expect((await validate({ ...structuredClone(document), info: undefined })).valid).toBe(false);
    expect(Object.keys(document.paths["/v1/keys"].post.responses)).toContain("201");
    expect(document.paths["/v1/keys"].post.responses["200"]).toBeUndefined();
    expect(document.paths["/v1/me"].get.responses["200"]).toBeDefined();
    expect(document.paths["/v1/me"].get.security).toEqual([{ bearerAuth: [] }]);
  });

  it("documents what webhook endpoints receive: one entry per fact type, its data, the signature headers", async () => {
    const { body: document } = await call("GET", "/openapi.json");
    expect(Object.keys(document.webhooks).sort()).toEqual(
      Fact.all()
        .map((definition) => definition.type)
        .sort(),
    );
    const bounced = document.webhooks["delivery.bounced"].post;
    expect(bounced.parameters.map((p: { name: string }) => p.name)).toEqual([
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
    const schema = bounced.requestBody.content["application/json"].schema;
    expect(schema.properties.type).toMatchObject({ const: "delivery.bounced" });
    expect(schema.properties.version).toMatchObject({ const: 1 });
    expect(Object.keys(schema.properties.data.properties)).toEqual(
      expect.arrayContaining(["deliveryId", "notificationId", "status"]),
    );
  });

  it("documents every operation: id, summary, description, bearer auth, examples, errors", async () => {
    const { body: document } = await call("GET", "/openapi.json");
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods!));
    expect(operations).toHaveLength(40);
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("emailsSend");
    for (const operation of operations) {
      expect(operation.operationId).toMatch(/^[a-z]+[A-Z][A-Za-z]+$/);
      expect(operation.summary).toBeTruthy();
      expect(operation.description).toBeTruthy();
      expect(operation.security).toEqual([{ bearerAuth: [] }]);
      type Response = { content: { "application/json": { example?: unknown; schema: unknown } } };
      const [success, ...errors] = Object.entries<Response>(operation.responses);
      expect(success![1].content["application/json"].example, operation.operationId).toBeDefined();
      const body = operation.requestBody?.content["application/json"];
      if (body) expect(body.example, operation.operationId).toBeDefined();
      expect(errors.map(([status]) => status)).toEqual(
        expect.arrayContaining(["401", "500", "503"]),
      );
      for (const [, response] of errors) {
        expect(response.content["application/json"].schema).toEqual({
          $ref: "#/components/schemas/Error",
        });
      }
    }
    expect(Object.keys(document.components.schemas)).toEqual(["Error"]);
    const send = document.paths["/v1/emails"].post;
    expect(Object.keys(send.responses)).toEqual([
      "202",
      "400",
      "401",
      "403",
      "404",
      "413",
      "415",
      "422",
      "429",
      "500",
      "503",
    ]);
    expect(Object.keys(send.responses["429"].headers)).toContain("Retry-After");
    expect(Object.keys(send.responses["503"].headers)).toEqual(["Retry-After"]);
    expect(send.description).toContain("`emails:send` scope");
    expect(Object.keys(document.paths["/v1/keys"].get.responses)).toEqual([
      "200",
      "400",
      "401",
      "403",
      "500",
      "503",
    ]);
  });

  it("serves an API reference page", async () => {
    const response = await app.request("/docs");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("/openapi.json");
  });

  it("describes the calling key at GET /v1/me", async () => {
    const { project, key, secret } = await projectWithKey(["emails:send", "otp:send"]);
    expect(await call("GET", "/v1/me", secret)).toEqual({
      status: 200,
      headers: expect.anything(),
      body: {
        project: { id: project.id, name: project.name },
        key: { id: key.id, name: "test", hint: key.hint },
        token: null,
        scopes: ["emails:send", "otp:send"],
      },
    });
  });

  it("answers 401 without a key, with an unknown key and with a revoked key", async () => {
    const { secret, key } = await projectWithKey(["admin"]);
    expect(await call("GET", "/v1/me")).toMatchObject({
      status: 401,
      body: { code: "UNAUTHORIZED", reason: "missing_api_key" },
    });
    expect(await call("GET", "/v1/me", "prg_nope_nope_nope_nope_nope_nope_nope")).toMatchObject({
      status: 401,
      body: { code: "UNAUTHORIZED", reason: "invalid_api_key" },
    });
    expect((await call("DELETE", `/v1/keys/${key.id}`, secret)).status).toBe(200);
    expect(await call("GET", "/v1/me", secret)).toMatchObject({
      status: 401,
      body: { code: "UNAUTHORIZED", reason: "api_key_revoked", message: expect.any(String) },
    });
  });

  it("answers 403 naming the missing scope", async () => {
    const { secret } = await projectWithKey(["emails:send"]);
    expect(await call("GET", "/v1/keys", secret)).toEqual({
      status: 403,
      headers: expect.anything(),
      body: {
        code: "FORBIDDEN",
        reason: "missing_scope",
        message: "This API key lacks the 'admin' scope",
      },
    });
  });

  it("answers 404 for another project's key, and never touches it", async () => {
    const a = await projectWithKey(["admin"]);
    const b = await projectWithKey(["admin"]);
    expect(await call("DELETE", `/v1/keys/${a.key.id}`, b.secret)).toMatchObject({
      status: 404,
      body: { code: "NOT_FOUND", reason: "not_found" },
    });
    expect((await call("GET", "/v1/me", a.secret)).status).toBe(200);
    const listed = await call("GET", "/v1/keys", b.secret);
    expect(listed.body.keys.map((k: { id: string }) => k.id)).toEqual([b.key.id]);
  });

  it("creates a key with 201 and returns its secret once", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const created = await call("POST", "/v1/keys", secret, { name: "ci", scopes: ["otp:verify"] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "ci", scopes: ["otp:verify"], revokedAt: null });
    expect((await call("GET", "/v1/me", created.body.key)).body.scopes).toEqual(["otp:verify"]);
    const listed = await call("GET", "/v1/keys", secret);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
  });

  it("answers 400 with the zod issues, naming the field, for bad input", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const bad = await call("POST", "/v1/keys", secret, { name: "ok", scopes: ["emails:sned"] });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("BAD_REQUEST");
    expect(bad.body.reason).toBe("invalid_input");
    expect(bad.body.message).toMatch(/^scopes\.0: /);
    expect(bad.body.issues[0].path).toEqual(["scopes", 0]);

    expect((await call("DELETE", "/v1/keys/not-a-uuid", secret)).status).toBe(400);
    const notJson = await app.request("/v1/keys", {
      method: "POST",
      headers: { ...bearer(secret), ...json },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: "PARSE_ERROR" });
  });

  it("answers 413 for a body over 5 MB", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const huge = JSON.stringify({ name: "x".repeat(maxBodyBytes), scopes: ["admin"] });
    for (const path of ["/v1/keys", "/trpc/keys.create"]) {
      const response = await app.request(path, {
        method: "POST",
        headers: { ...bearer(secret), ...json },
        body: huge,
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({
        code: "PAYLOAD_TOO_LARGE",
        reason: "body_too_large",
      });
    }
  });

  it("answers 404 in the error shape for unknown routes", async () => {
    expect(await call("GET", "/nowhere")).toMatchObject({
      status: 404,
      body: { code: "NOT_FOUND" },
    });
    const { secret } = await projectWithKey(["admin"]);
    expect(await call("GET", "/v1/nowhere", secret)).toMatchObject({
      status: 404,
      body: { code: "NOT_FOUND" },
    });
    // Without a key, /v1 and /trpc tell nothing of their routes.
    expect(await call("GET", "/v1/nowhere")).toMatchObject({
      status: 401,
      body: { reason: "missing_api_key" },
    });
  });

  it("takes a POST without a body as {}, and refuses query parameters named like Object members", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const cancel = await app.request(`/v1/otp/${crypto.randomUUID()}/cancel`, {
      method: "POST",
      headers: bearer(secret),
    });
    expect(cancel.status).toBe(404);
    for (const name of ["constructor", "__proto__", "toString"]) {
      expect(await call("GET", `/v1/suppressions?${name}=x`, secret)).toMatchObject({
        status: 400,
        body: { reason: "invalid_input", issues: [{ code: "unrecognized_keys", keys: [name] }] },
      });
    }
    expect((await call("GET", "/v1/audit?since=0000-01-01T00:00:00Z", secret)).status).toBe(400);
  });

  it("serves tRPC at /trpc with the same errors and no batching", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const me = await call("GET", "/trpc/me.get", secret);
    expect(me).toMatchObject({
      status: 200,
      body: { result: { data: { project: { id: project.id } } } },
    });

    const forbidden = await call("GET", "/trpc/keys.list", secret);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.data).toMatchObject({ code: "FORBIDDEN", reason: "missing_scope" });

    const batch = await call("GET", "/trpc/me.get,me.get?batch=1&input={}", secret);
    expect(batch.status).toBe(400);
  });
});

/** A request with a raw body (or none), answered as status and JSON body. */
async function send(method: string, path: string, secret: string | undefined, body?: BodyInit) {
  const response = await app.request(path, {
    method,
    headers: { ...(secret && bearer(secret)), ...(body !== undefined && json) },
    ...(body !== undefined && { body, duplex: "half" }),
  });
  return { status: response.status, body: await response.json() };
}

/** The first issue of an answer, whichever transport carried it. */
const firstIssue = (body: { issues?: unknown[]; error?: { data: { issues?: unknown[] } } }) =>
  (body.issues ?? body.error?.data.issues)?.[0];

describe("hostile requests", () => {
  it("checks the key before reading the body, answering in each transport's error shape", async () => {
    const unknown = `prg_${randomBytes(32).toString("base64url")}`;
    // A body that fails when read: a 401 here shows nothing read it.
    const unreadable = () =>
      new ReadableStream({ pull: (controller) => controller.error(new Error("read")) });
    for (const body of ["{bad", unreadable()]) {
      expect(await send("POST", "/v1/keys", unknown, body)).toEqual({
        status: 401,
        body: {
          code: "UNAUTHORIZED",
          reason: "invalid_api_key",
          message: "The API key is not valid",
        },
      });
    }
    expect(await send("POST", "/v1/keys", undefined, unreadable())).toMatchObject({
      status: 401,
      body: { code: "UNAUTHORIZED", reason: "missing_api_key" },
    });
    expect(await send("POST", "/trpc/keys.create", unknown, unreadable())).toEqual({
      status: 401,
      body: {
        error: {
          code: -32001,
          message: "The API key is not valid",
          data: {
            code: "UNAUTHORIZED",
            httpStatus: 401,
            path: "keys.create",
            reason: "invalid_api_key",
          },
        },
      },
    });
    expect(await send("GET", "/trpc/me.get?input={bad", "not-a-key")).toMatchObject({
      status: 401,
      body: { error: { data: { reason: "invalid_api_key" } } },
    });
  });

  it("answers a flood of bad keys with one lookup per key, and none for malformed keys", async () => {
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    // While the test holds api_keys locked, a lookup waits, visibly, in pg_stat_activity.
    const lookups = async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and query ilike '%api_keys%'`;
      return row!.n;
    };
    const statuses = (count: number, path: (i: number) => string, secret: (i: number) => string) =>
      Array.from({ length: count }, (_, i) =>
        Promise.resolve(app.request(path(i), { headers: bearer(secret(i)) })).then(
          (response) => response.status,
        ),
      );
    /** All answered, or a lookup waiting on the lock: then the test fails and releases it. */
    async function answeredWithoutLookup(answers: Promise<number>[]) {
      let settled = false;
      const all = Promise.all(answers).finally(() => {
        settled = true;
      });
      await until(async () => settled || (await lookups()) > 0);
      expect(await lookups()).toBe(0);
      return all;
    }
    const repeated = `prg_${randomBytes(32).toString("base64url")}`;
    const fresh = `prg_${randomBytes(32).toString("base64url")}`;
    let flood: Promise<number[]> | undefined;
    try {
      expect((await call("GET", "/v1/me", repeated)).status).toBe(401);
      await sql.begin(async (tx) => {
        await tx`lock table api_keys in access exclusive mode`;
        const either = (i: number) => (i % 2 ? "/v1/me" : "/trpc/me.get");
        const again = await answeredWithoutLookup(statuses(200, either, () => repeated));
        expect(again).toEqual(Array(200).fill(401));
        const malformed = ["short", "has spaces in it but is long enough to pass", "é".repeat(40)];
        const garbage = await answeredWithoutLookup(
          statuses(200, either, (i) => `${malformed[i % 3]}${i}`),
        );
        expect(garbage).toEqual(Array(200).fill(401));

        // 200 at once with a key never seen: one lookup, which the others wait for.
        flood = Promise.all(
          statuses(
            200,
            () => "/v1/me",
            () => fresh,
          ),
        );
        await until(async () => (await lookups()) > 0);
        await new Promise((settle) => setTimeout(settle, 200));
        expect(await lookups()).toBe(1);
      });
      expect(await flood).toEqual(Array(200).fill(401));
    } finally {
      await flood?.catch(() => {});
      await sql.end();
    }
  });

  it("refuses NUL characters, unpaired surrogates and deep nesting with 400 naming the field, on both transports", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const email = (variables: string) =>
      `{"to":["ana@pregon.test"],"subject":"s","text":"t","variables":${variables}}`;
    const cases: [string, string, string, (string | number)[], RegExp][] = [
      ["keys", "keys.create", '{"name":"a\\u0000b","scopes":["admin"]}', ["name"], /NUL/],
      ["keys", "keys.create", '{"name":"a\\ud800b","scopes":["admin"]}', ["name"], /surrogate/],
      [
        "keys",
        "keys.create",
        '{"name":"ok","scopes":["admin\\udc00"]}',
        ["scopes", 0],
        /surrogate/,
      ],
      [
        "emails",
        "emails.send",
        email(`{"a":${deep}}`),
        ["variables", "a", ...Array(30).fill(0)],
        /32/,
      ],
      ["emails", "emails.send", email('{"a\\u0000":1}'), ["variables", "a\u0000"], /NUL/],
    ];
    for (const [rest, trpc, body, path, message] of cases) {
      for (const route of [`/v1/${rest}`, `/trpc/${trpc}`]) {
        const answer = await send("POST", route, secret, body);
        expect(answer.status, `${route} ${body.slice(0, 80)}`).toBe(400);
        expect(firstIssue(answer.body), JSON.stringify(answer.body)).toMatchObject({
          path,
          message: expect.stringMatching(message),
        });
      }
    }
    const query = await send("GET", "/v1/devices?userId=ana%00", secret);
    expect(query).toMatchObject({ status: 400, body: { reason: "invalid_input" } });
    expect(firstIssue(query.body)).toMatchObject({ path: ["userId"] });
    const input = encodeURIComponent('{"userId":"ana\\u0000"}');
    const trpcQuery = await send("GET", `/trpc/devices.list?input=${input}`, secret);
    expect(trpcQuery).toMatchObject({
      status: 400,
      body: { error: { data: { reason: "invalid_input" } } },
    });
    expect(firstIssue(trpcQuery.body)).toMatchObject({ path: ["userId"] });
  });

  it("refuses unknown fields and query parameters, naming them, on both transports", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const unknown = (keys: string[], path: (string | number)[] = []) => ({
      code: "unrecognized_keys",
      keys,
      path,
      message: `Unrecognized key: ${keys.map((key) => `"${key}"`).join(", ")}`,
    });
    const key = JSON.stringify({ name: "typo", scopes: ["admin"], send_at: "2030-01-01" });
    const email = JSON.stringify({
      to: [{ email: "ana@pregon.test", nmae: "Ana" }],
      subject: "s",
      text: "t",
    });
    const cases: [string, string, string, object][] = [
      ["POST", "/v1/keys", key, unknown(["send_at"])],
      ["POST", "/trpc/keys.create", key, unknown(["send_at"])],
      ["POST", "/v1/emails", email, unknown(["nmae"], ["to", 0])],
      ["POST", "/trpc/emails.send", email, unknown(["nmae"], ["to", 0])],
    ];
    for (const [method, route, body, issue] of cases) {
      const answer = await send(method, route, secret, body);
      expect(answer.status, route).toBe(400);
      expect(firstIssue(answer.body), route).toEqual(issue);
    }
    expect(
      (await call("GET", "/v1/keys", secret)).body.keys.map((k: { name: string }) => k.name),
    ).not.toContain("typo");

    for (const route of ["/v1/me?verbose=1", "/v1/suppressions?chanel=sms", "/v1/keys?send_at=x"]) {
      const method = route.startsWith("/v1/keys") ? "POST" : "GET";
      const body = method === "POST" ? JSON.stringify({ name: "q", scopes: ["admin"] }) : undefined;
      const answer = await send(method, route, secret, body);
      expect(answer, route).toMatchObject({ status: 400, body: { reason: "invalid_input" } });
      expect(firstIssue(answer.body), route).toMatchObject({
        code: "unrecognized_keys",
        keys: [new URL(route, "http://x").searchParams.keys().next().value],
      });
    }
    const trpcQuery = await send(
      "GET",
      `/trpc/suppressions.list?input=${encodeURIComponent('{"chanel":"sms"}')}`,
      secret,
    );
    expect(firstIssue(trpcQuery.body)).toEqual(unknown(["chanel"]));
  });

  it("declares every input object closed (additionalProperties: false), on both transports", async () => {
    type Schema = { type?: unknown; additionalProperties?: unknown } & Record<string, unknown>;
    const open: string[] = [];
    const walk = (schema: unknown, where: string) => {
      if (typeof schema !== "object" || schema === null) return;
      const node = schema as Schema;
      if (node.type === "object" && node.additionalProperties === undefined) open.push(where);
      for (const [name, child] of Object.entries(node)) walk(child, `${where}/${name}`);
    };
    const procedures = appRouter._def.procedures as unknown as Record<
      string,
      { _def: { inputs: z.ZodType[] } }
    >;
    for (const [path, procedure] of Object.entries(procedures)) {
      for (const input of procedure._def.inputs) {
        walk(z.toJSONSchema(input, { io: "input", unrepresentable: "any" }), path);
      }
    }
    const { body: document } = await call("GET", "/openapi.json");
    for (const [route, methods] of Object.entries<Record<string, { requestBody?: unknown }>>(
      document.paths,
    )) {
      for (const [method, operation] of Object.entries(methods))
        walk(operation.requestBody, `${method} ${route}`);
    }
    expect(open).toEqual([]);
  });
});

describe("the HTTP app behind Node's server (the local stack)", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((ready) => server.once("listening", ready));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((done) => server.close(done)));

  /** A request over HTTP, as the Node server receives it (its body Node's own stream). */
  async function send(method: string, path: string, init: RequestInit = {}) {
    const response = await fetch(`${url}${path}`, { method, ...init });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  it("reads a JSON body, and answers in one piece with the request's id", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const created = await send("POST", "/v1/keys", {
      headers: { ...bearer(secret), ...json },
      body: JSON.stringify({ name: "over http", scopes: ["otp:verify"] }),
    });
    expect(created).toMatchObject({ status: 201, body: { name: "over http" } });
    expect(created.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers.get("content-length")).toBe(
      String(Buffer.byteLength(JSON.stringify(created.body))),
    );
    const me = await send("GET", "/trpc/me.get", { headers: bearer(secret) });
    expect(me.status).toBe(200);
    expect(me.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers.get("x-request-id")).not.toBe(me.headers.get("x-request-id"));
  });

  it("answers bad bodies as the in-process app does: invalid JSON, no content type, empty", async () => {
    const { secret } = await projectWithKey(["admin"]);
    expect(
      await send("POST", "/v1/keys", { headers: { ...bearer(secret), ...json }, body: "{nope" }),
    ).toMatchObject({ status: 400, body: { code: "PARSE_ERROR" } });
    expect(
      await send("POST", "/v1/keys", { headers: bearer(secret), body: '{"name":"x"}' }),
    ).toMatchObject({ status: 415, body: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    expect(
      await send("POST", `/v1/otp/${crypto.randomUUID()}/cancel`, { headers: bearer(secret) }),
    ).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    expect(
      await send("POST", "/v1/keys", { headers: { ...bearer(secret), ...json }, body: "" }),
    ).toMatchObject({ status: 400, body: { code: "PARSE_ERROR" } });
  });

  it("takes a client that leaves halfway through its body for no database outage", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const name = `left-${randomBytes(4).toString("hex")}`;
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    Log.logger.setLogLevel("DEBUG");
    const spies = [
      vi.spyOn(process.stdout, "write").mockImplementation(capture),
      vi.spyOn(process.stderr, "write").mockImplementation(capture),
    ];
    // A server of its own, to learn when the app has answered the request.
    let answered: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const own = serve({
      fetch: (request, env) => Promise.resolve(app.fetch(request, env)).finally(answered),
      port: 0,
      hostname: "127.0.0.1",
    }) as Server;
    await once(own, "listening");
    try {
      const socket = connect((own.address() as AddressInfo).port, "127.0.0.1");
      await once(socket, "connect");
      const body = JSON.stringify({ name, scopes: ["admin"] });
      socket.write(
        `POST /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${secret}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`,
      );
      // Time for the server to take the headers and start on the body.
      await new Promise((done) => setTimeout(done, 200));
      socket.destroy();
      await done;
    } finally {
      own.close();
      for (const spy of spies) spy.mockRestore();
      Log.logger.setLogLevel("SILENT");
    }
    expect(lines.join("")).not.toMatch(/database unavailable|DatabaseUnavailable|unhandled error/);
    const keys = await send("GET", "/v1/keys", { headers: bearer(secret) });
    expect(keys.status).toBe(200);
    expect(JSON.stringify(keys.body)).not.toContain(name);
  });

  it("answers 413 for a body over 5 MB, of declared length or streamed", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const huge = JSON.stringify({ name: "x".repeat(maxBodyBytes), scopes: ["admin"] });
    const declared = await send("POST", "/v1/keys", {
      headers: { ...bearer(secret), ...json },
      body: huge,
    });
    expect(declared).toMatchObject({ status: 413, body: { reason: "body_too_large" } });
    // Sent in chunks: no Content-Length, so the limit counts what arrives.
    const streamed = await send("POST", "/v1/keys", {
      headers: { ...bearer(secret), ...json },
      body: new Blob([huge]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(streamed).toMatchObject({ status: 413, body: { reason: "body_too_large" } });
    const small = await send("POST", "/v1/keys", {
      headers: { ...bearer(secret), ...json },
      body: new Blob([JSON.stringify({ name: "streamed", scopes: ["admin"] })]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(small).toMatchObject({ status: 201, body: { name: "streamed" } });
  });
});
