import { AppError, Database, Log } from "@pregon/core";
import { Scalar } from "@scalar/hono-api-reference";
import type { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createOpenApiFetchHandler } from "trpc-to-openapi";
import { createContext, type Settings } from "./context";
import {
  answerOf,
  appErrorOf,
  databaseUnavailable,
  describeIssues,
  type ErrorBody,
  errorBody,
  type Issue,
  retryHeaders,
} from "./error";
import { buildOpenApiDocument, successStatus } from "./openapi";
import { appRouter } from "./router";

export const maxBodyBytes = 5 * 1024 * 1024;

/** Retry-After (and RateLimit-* for a limit) for a request refused with one. */
function limitHeaders(errors: TRPCError[]): Record<string, string> | undefined {
  const refusal = errors.map((error) => error.cause).find((cause) => cause instanceof AppError);
  return refusal instanceof AppError ? retryHeaders(refusal) : undefined;
}

function logError({
  error,
  path,
  ctx,
}: {
  error: TRPCError;
  path?: string | undefined;
  ctx?: { requestId: string } | undefined;
}) {
  if (error.code === "INTERNAL_SERVER_ERROR") {
    Log.logger.error("procedure failed", { path, requestId: ctx?.requestId, error });
  }
}

/** trpc-to-openapi answers with the tRPC error shape spread out; reduce it to DESIGN §3's. */
function restErrorBody(raw: {
  code: ErrorBody["code"];
  message: string;
  data?: { reason?: ErrorBody["reason"]; issues?: Issue[] };
}): ErrorBody {
  const issues = raw.data?.issues;
  return {
    code: raw.code,
    message: issues ? describeIssues(issues) : raw.message,
    ...(raw.data?.reason && { reason: raw.data.reason }),
    ...(issues && { issues }),
  };
}

/**
 * The request as trpc-to-openapi can take it. It collects the query into a plain object, so a
 * parameter named like an Object.prototype member (`constructor`, `__proto__`) breaks it (a 500):
 * no operation has one, they are dropped. A POST or PUT without a body (as the document describes
 * `POST /v1/otp/{id}/cancel`) carries an empty JSON object instead of being refused with 415.
 */
function forOpenApi(request: Request): Request {
  const { method, headers } = request;
  if (method === "GET" || method === "DELETE") {
    const url = new URL(request.url);
    const inherited = [...url.searchParams.keys()].filter((name) => name in Object.prototype);
    for (const name of inherited) url.searchParams.delete(name);
    return inherited.length ? new Request(url, { method, headers }) : request;
  }
  if (request.body || headers.has("content-type") || !["POST", "PUT", "PATCH"].includes(method)) {
    return request;
  }
  const json = new Headers(headers);
  json.set("content-type", "application/json");
  return new Request(request.url, { method, headers: json, body: "{}" });
}

/** The HTTP face of Pregón: the same app runs behind API Gateway and on the local stack. */
export function createApp(settings: Settings) {
  const openApiDocument = buildOpenApiDocument();
  const app = new Hono();

  app.use(requestId());
  // Every log line and fact of the request carries its id (Log.context).
  app.use(async (c, next) => {
    await Log.withContext({ requestId: c.get("requestId") }, next);
    // Also on responses the routes build themselves (tRPC, REST), so callers can quote it.
    c.header("X-Request-Id", c.get("requestId"));
  });
  app.use(async (_c, next) => {
    await next();
    Log.flushMetrics();
  });
  app.use(
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        c.json(errorBody("PAYLOAD_TOO_LARGE", "body_too_large", "The body exceeds 5 MB"), 413),
    }),
  );

  // Liveness: the process answers (it touches nothing). Readiness: the database answers too.
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", async (c) => {
    if (await Database.ready()) return c.json({ status: "ok" });
    const { body, status, headers } = answerOf(databaseUnavailable());
    return c.json(body, status as ContentfulStatusCode, headers);
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument));
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Pregón API" }));

  app.all("/trpc/*", (c) =>
    fetchRequestHandler({
      endpoint: "/trpc",
      req: c.req.raw,
      router: appRouter,
      allowBatching: false,
      createContext: () => createContext(c.req.raw, c.get("requestId"), settings),
      responseMeta: ({ errors }) => ({ headers: limitHeaders(errors) }),
      onError: logError,
    }),
  );

  app.all("/v1/*", async (c) => {
    const response = await createOpenApiFetchHandler({
      // Procedures declare their full path (/v1/...); "" strips nothing from the URL.
      endpoint: "" as "/",
      req: forOpenApi(c.req.raw),
      router: appRouter,
      createContext: () => createContext(c.req.raw, c.get("requestId"), settings),
      responseMeta: ({ paths, errors }) =>
        errors.length ? { headers: limitHeaders(errors) } : { status: successStatus(paths?.[0]) },
      onError: logError,
    });
    if (response.status < 400) return response;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    return c.json(
      restErrorBody(await response.json()),
      response.status as ContentfulStatusCode,
      Object.fromEntries(headers),
    );
  });

  app.notFound((c) => c.json(errorBody("NOT_FOUND", "not_found", "No such route"), 404));
  app.onError((error, c) => {
    const refusal = appErrorOf(error);
    if (refusal) {
      const { body, status, headers } = answerOf(refusal);
      return c.json(body, status as ContentfulStatusCode, headers);
    }
    Log.logger.error("unhandled error", { error, path: c.req.path });
    return c.json({ code: "INTERNAL_SERVER_ERROR", message: "Internal server error" }, 500);
  });
  return app;
}
