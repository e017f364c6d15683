import { IncomingMessage } from "node:http";
import * as Actor from "@pregon/core/actor";
import * as ApiKey from "@pregon/core/apikey";
import * as Database from "@pregon/core/db";
import { AppError } from "@pregon/core/error";
import * as Issuer from "@pregon/core/issuer";
import * as Log from "@pregon/core/log";
import { getTRPCErrorShape, TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { Hono, type Context as HonoContext, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { bearerOf, type Context, createContext, type Settings } from "./context";
import { docsPage } from "./docs";
import {
  answerOf,
  appErrorOf,
  databaseUnavailable,
  describeError,
  describeIssues,
  type ErrorBody,
  errorBody,
  type Issue,
  retryHeaders,
  toTRPCError,
} from "./error";
import { buildOpenApiDocument, successStatus } from "./openapi";
import { restHandler } from "./rest";
import { appRouter } from "./router";
import { unsubscribeRoutes } from "./unsubscribe";

export const maxBodyBytes = 5 * 1024 * 1024;

/** Retry-After (and RateLimit-* for a limit) for a request refused with one. */
function limitHeaders(errors: TRPCError[]): Record<string, string> | undefined {
  const refusal = errors.map((error) => error.cause).find((cause) => cause instanceof AppError);
  return refusal instanceof AppError ? retryHeaders(refusal) : undefined;
}

function logError({ error, path }: { error: TRPCError; path?: string | undefined }) {
  if (error.code === "INTERNAL_SERVER_ERROR") Log.logger.error("procedure failed", { path, error });
}

/**
 * trpc-to-openapi answers with the tRPC error shape spread out; reduce it to the one error body
 * (`ErrorBody`) every route answers with.
 */
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
 * Who sends `bearer`: an API key's holder, or a token's subject. Each is refused before any query
 * when it cannot be valid (a malformed key; a token of another form or algorithm, or expired).
 */
async function actorOf(bearer: string | undefined, requestId: string): Promise<Actor.Actor> {
  if (bearer && Issuer.isToken(bearer)) {
    const { projectId, issuer, subject, scopes } = await Issuer.authenticate(bearer);
    return { type: "token", projectId, issuer, subject, scopes, requestId };
  }
  const { projectId, keyId, scopes } = await ApiKey.authenticate(bearer);
  return { type: "key", projectId, keyId, scopes, requestId };
}

/**
 * Authenticates the caller of /v1 or /trpc before anything reads the body: a request without a
 * valid key or token costs no parsing, and at most one query per distinct well-formed key
 * (ApiKey.authenticate) or token (Issuer.authenticate). A refusal takes the transport's error
 * shape; the caller becomes the request's actor, which core reads from then on.
 */
function authenticate(transport: "rest" | "trpc"): MiddlewareHandler {
  return async (c, next) => {
    let actor: Actor.Actor;
    try {
      actor = await actorOf(bearerOf(c.req.raw), c.get("requestId"));
    } catch (cause) {
      // A refused key or token, or the database out of reach (503 in the transport's own shape).
      const refusal = appErrorOf(cause);
      if (!refusal) throw cause;
      const error = toTRPCError(refusal);
      const status = getHTTPStatusCodeFromError(error) as ContentfulStatusCode;
      c.header("Retry-After", retryHeaders(refusal)?.["Retry-After"]);
      if (transport === "rest") return c.json(describeError(error), status);
      const path = new URL(c.req.url).pathname.slice("/trpc/".length);
      const shape = getTRPCErrorShape({
        config: appRouter._def._config,
        error,
        type: "unknown",
        path,
        input: undefined,
        ctx: undefined,
      });
      return c.json({ error: shape }, status);
    }
    await Actor.provide(actor, next);
  };
}

/**
 * Query parameters trpc-to-openapi would not pass on: every one of a request with a body (an
 * operation with a body takes no query parameter, and the adapter ignores them), and names of
 * Object.prototype members (the adapter collects the query into a plain object, and breaks).
 */
function unpassableQuery(request: Request): string[] {
  if (!request.url.includes("?")) return [];
  const names = [...new URL(request.url).searchParams.keys()];
  const takesBody = request.method !== "GET" && request.method !== "DELETE";
  return [...new Set(takesBody ? names : names.filter((name) => name in Object.prototype))];
}

/** Zod's own answer to unknown fields, as a strict input schema gives it. */
const unrecognized = (names: string[]) =>
  new TRPCError({
    code: "BAD_REQUEST",
    cause: z.strictObject({}).safeParse(Object.fromEntries(names.map((name) => [name, ""]))).error,
  });

/** Methods whose requests carry no body: neither limited nor read. */
const bodiless = (method: string) => method === "GET" || method === "HEAD";

const tooLarge = (c: HonoContext) =>
  c.json(errorBody("PAYLOAD_TOO_LARGE", "body_too_large", "The body exceeds 5 MB"), 413);
const readBodyWithin = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge });

/**
 * Refuses a body over `maxBodyBytes`. A declared length is judged from the headers alone (the
 * server reads no further than it), as Hono's body limit would judge it, but without asking for
 * the fetch Request's body: the Node server builds a whole Request, a web stream over its own,
 * the first time anything does. A body of unknown length is read within the limit by Hono's.
 */
const limitBody: MiddlewareHandler = (c, next) => {
  if (bodiless(c.req.method)) return next();
  const length = c.req.header("content-length");
  if (length === undefined || c.req.header("transfer-encoding") !== undefined) {
    return readBodyWithin(c, next);
  }
  return Number.parseInt(length, 10) > maxBodyBytes ? Promise.resolve(tooLarge(c)) : next();
};

/**
 * The request's body, read whole. Behind the Node server (the local stack) it comes straight from
 * Node's request, unless Hono's body limit has read it already; elsewhere (Lambda), and then, from
 * the fetch Request.
 */
async function bodyOf(c: HonoContext): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming instanceof IncomingMessage && !incoming.readableDidRead) return read(incoming);
  return new Uint8Array(await c.req.raw.arrayBuffer());
}

/**
 * Node's stream read whole, chunk by chunk (stream/consumers' `buffer` makes a Blob first). A body
 * cut short is the client's doing: refused as such, not as Node's ECONNRESET (which would read as
 * the database out of reach).
 */
function read(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cutShort = () =>
      reject(new AppError("invalid_input", "The request closed before its body ended"));
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => resolve(Buffer.concat(chunks)));
    incoming.once("error", cutShort);
    // "close" follows "end" on every request: only an error made before it is worth its cost.
    incoming.once("close", () => {
      if (!incoming.readableEnded) cutShort();
    });
  });
}

/** Where the app's pages load what they need from, beyond the app itself. */
export interface AppOptions {
  /** The https origin serving the API reference's script (on AWS); none: this app's own. */
  docsOrigin?: string | undefined;
}

/** The HTTP face of Pregón: the same app runs behind API Gateway and on the local stack. */
export function createApp(settings: Settings, options: AppOptions = {}) {
  // Built on the first request for it: no other route needs it, and it costs a cold start dearly.
  let openApiDocument: ReturnType<typeof buildOpenApiDocument> | undefined;
  const app = new Hono();

  app.use(requestId());
  // Until a key says who is calling, the request acts for no one; its log lines carry its id.
  app.use(async (c, next) => {
    await Actor.provide({ type: "public", requestId: c.get("requestId") }, next);
    // Also on responses the routes build themselves (tRPC, REST), so callers can quote it. Set on
    // the response's own headers: `c.header` on a finished response rebuilds it around its body
    // as a stream, which the Node server then copies out chunk by chunk.
    c.res.headers.set("X-Request-Id", c.get("requestId"));
    Log.flushMetrics();
  });
  // Before the body limit, which reads a body of unknown length whole before passing it on.
  app.use("/v1/*", authenticate("rest"));
  app.use("/trpc/*", authenticate("trpc"));
  app.use(limitBody);

  // Liveness: the process answers (it touches nothing). Readiness: the database answers too.
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", async (c) => {
    if (await Database.ready()) return c.json({ status: "ok" });
    const { body, status, headers } = answerOf(databaseUnavailable());
    return c.json(body, status as ContentfulStatusCode, headers);
  });
  app.get("/openapi.json", (c) => {
    openApiDocument ??= buildOpenApiDocument();
    return c.json(openApiDocument);
  });
  app.get("/docs", docsPage(options.docsOrigin));
  unsubscribeRoutes(app);

  app.all("/trpc/*", (c) =>
    fetchRequestHandler({
      endpoint: "/trpc",
      req: c.req.raw,
      router: appRouter,
      allowBatching: false,
      createContext: () => createContext(c.req.raw, settings),
      responseMeta: ({ errors }) => ({ headers: limitHeaders(errors) }),
      onError: logError,
    }),
  );

  const rest = restHandler<Context>({
    router: appRouter,
    responseMeta: ({ paths, errors }) =>
      errors.length ? { headers: limitHeaders(errors) } : { status: successStatus(paths?.[0]) },
    onError: logError,
  });
  app.all("/v1/*", async (c) => {
    const unpassable = unpassableQuery(c.req.raw);
    if (unpassable.length) return c.json(describeError(unrecognized(unpassable)), 400);
    const body = bodiless(c.req.method) ? undefined : await bodyOf(c);
    const response = await rest(c.req.raw, body, createContext(c.req.raw, settings));
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
