import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaEnvironment, projectWithKey, settings } from "../../../test/support/fixtures";
import { pipelines, stack } from "../../../test/support/setup";
import sample from "./fixtures/apigw-v2-event.json";

lambdaEnvironment(pipelines.topics, stack.aws, stack.mailboxUrl);
const { handler } = await import("./http");

/** A request as API Gateway HTTP API (payload 2.0) hands it to Lambda, from AWS's sample event. */
function apiGatewayEvent(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const [rawPath, rawQueryString = ""] = path.split("?") as [string, string?];
  const body = options.body;
  return {
    ...sample,
    cookies: undefined,
    rawPath,
    rawQueryString,
    queryStringParameters: rawQueryString
      ? Object.fromEntries(new URLSearchParams(rawQueryString))
      : undefined,
    headers: {
      ...sample.headers,
      "content-length": String(body ? Buffer.byteLength(body) : 0),
      ...options.headers,
    },
    requestContext: {
      ...sample.requestContext,
      http: { ...sample.requestContext.http, method, path: rawPath },
      timeEpoch: Date.now(),
    },
    body: body && options.base64 ? Buffer.from(body).toString("base64") : body,
    isBase64Encoded: Boolean(body && options.base64),
  };
}

const lambdaContext = { awsRequestId: "test", functionName: "http" } as Context;

let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = serve({ fetch: createApp(settings).fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((ready) => server.once("listening", ready));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((done) => server.close(done)));

async function both(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; base64?: boolean } = {},
) {
  // AWS's own type (body absent when empty); Hono's declares `body: string | null`.
  const event = apiGatewayEvent(method, path, options) as unknown as Parameters<typeof handler>[0];
  const lambda = (await handler(event, lambdaContext)) as APIGatewayProxyResult;
  const local = await fetch(`${baseUrl}${path}`, {
    method,
    headers: options.headers,
    ...(options.body !== undefined && { body: options.body }),
  });
  const lambdaBody = lambda.isBase64Encoded
    ? Buffer.from(lambda.body, "base64").toString()
    : lambda.body;
  return {
    lambda: {
      status: lambda.statusCode,
      type: lambda.headers?.["content-type"],
      body: JSON.parse(lambdaBody),
    },
    local: {
      status: local.status,
      type: local.headers.get("content-type"),
      body: await local.json(),
    },
  };
}

describe("the http Lambda handler", () => {
  it("answers API Gateway v2 events as the local server answers the same requests", async () => {
    const { secret, project } = await projectWithKey(["emails:send"]);
    const auth = { authorization: `Bearer ${secret}` };
    const cases: Array<[string, string, Parameters<typeof both>[2]?]> = [
      ["GET", "/health"],
      ["GET", "/v1/me", { headers: auth }],
      ["GET", "/v1/me"],
      ["GET", "/v1/keys", { headers: auth }],
      ["GET", "/trpc/me.get", { headers: auth }],
      ["GET", "/trpc/me.get?input=%7B%7D", { headers: auth }],
      ["POST", "/v1/keys", { headers: { ...auth, "content-type": "application/json" }, body: "{" }],
      ["GET", "/nowhere"],
    ];
    for (const [method, path, options] of cases) {
      const { lambda, local } = await both(method, path, options);
      expect(lambda, `${method} ${path}`).toEqual(local);
    }
    const me = await both("GET", "/v1/me", { headers: auth });
    expect(me.lambda.body.project.id).toBe(project.id);
  });

  it("takes a POST without a body or content type as an empty JSON object", async () => {
    const { secret } = await projectWithKey(["otp:send"]);
    const { lambda, local } = await both("POST", `/v1/otp/${crypto.randomUUID()}/cancel`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(local).toMatchObject({ status: 404, body: { reason: "not_found" } });
    expect(lambda).toEqual(local);
  });

  it("decodes base64 bodies and answers with the procedure's success status", async () => {
    const { secret } = await projectWithKey(["admin"]);
    const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
    const body = JSON.stringify({ name: "from lambda", scopes: ["sms:send"] });
    for (const base64 of [false, true]) {
      const { lambda, local } = await both("POST", "/v1/keys", { headers, body, base64 });
      expect(lambda.status).toBe(201);
      expect(local.status).toBe(201);
      expect(lambda.body).toMatchObject({ name: "from lambda", scopes: ["sms:send"] });
      expect(Object.keys(lambda.body).sort()).toEqual(Object.keys(local.body).sort());
    }
  });
});
