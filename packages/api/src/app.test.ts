import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { bearer, projectWithKey, settings } from "../../../test/support/fixtures";
import { createApp, maxBodyBytes } from "./app";

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

  it("documents every operation: id, summary, description, bearer auth, examples, errors", async () => {
    const { body: document } = await call("GET", "/openapi.json");
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods!));
    expect(operations).toHaveLength(24);
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
    expect(await call("GET", "/v1/nowhere", "k")).toMatchObject({
      status: 404,
      body: { code: "NOT_FOUND" },
    });
  });

  it("takes a POST without a body as {}, and ignores query parameters named like Object members", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const cancel = await app.request(`/v1/otp/${crypto.randomUUID()}/cancel`, {
      method: "POST",
      headers: bearer(secret),
    });
    expect(cancel.status).toBe(404);
    for (const name of ["constructor", "__proto__", "toString"]) {
      expect((await call("GET", `/v1/suppressions?${name}=x`, secret)).status).toBe(200);
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
