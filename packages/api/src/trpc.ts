import * as ApiKey from "@pregon/core/apikey";
import { AppError } from "@pregon/core/error";
import * as Idempotency from "@pregon/core/idempotency";
import { initTRPC } from "@trpc/server";
import type { Context } from "./context";
import { appErrorOf, describeError, toTRPCError } from "./error";
import { assertSafeInput } from "./input";

/**
 * What a procedure declares about itself. Plain data: trpc-to-openapi's `openapi` block is restated
 * here rather than imported (openapi.ts checks it still fits), so the router's types, which
 * @pregon/sdk bundles into its declarations, refer to nothing of trpc-to-openapi, zod or core.
 */
export type Meta = {
  openapi?: {
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
    path: `/${string}`;
    tags: string[];
    summary: string;
    description: string;
  };
  /** The REST success status; the OpenAPI document and the responses both use it. */
  successStatus?: 200 | 201 | 202;
  /** The scope the key needs (set by `scopedProcedure`). */
  scope?: string;
  /** Honours `Idempotency-Key` (set by `sendProcedure`). */
  idempotent?: true;
  /** Error statuses beyond the ones its shape implies (openapi.ts derives those). */
  errors?: (404 | 429)[];
  /** A call for the document: the input (path, query, header and body fields) and its answer. */
  example?: { request?: Record<string, unknown>; response: unknown };
};

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error }) {
      const { code, message, reason, issues } = describeError(error);
      return {
        code: shape.code,
        message,
        data: { code, httpStatus: shape.data.httpStatus, path: shape.data.path, reason, issues },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure. The app has authenticated its caller before (app.ts), so it starts with the raw
 * input checked for what no schema should see (input.ts), then the scope the procedure declares
 * (`scopedProcedure`), and ends mapping core's errors. One middleware for all three: tRPC copies a
 * call's options twice at each level of its chain.
 */
export const authedProcedure = t.procedure.use(async ({ meta, getRawInput, next }) => {
  assertSafeInput(await getRawInput());
  if (meta?.scope) {
    try {
      ApiKey.assertScope(meta.scope as ApiKey.Scope);
    } catch (cause) {
      const refusal = appErrorOf(cause);
      throw refusal ? toTRPCError(refusal) : cause;
    }
  }
  const result = await next();
  const refusal = result.ok ? undefined : appErrorOf(result.error.cause);
  if (refusal) throw toTRPCError(refusal);
  return result;
});

const IdempotencyKey = Idempotency.Key.optional();

/** A send: the scope, plus the request's `Idempotency-Key` checked and handed to the procedure. */
export const sendProcedure = (scope: ApiKey.Scope) =>
  scopedProcedure(scope)
    .meta({ idempotent: true })
    .use(({ ctx, next }) => {
      const parsed = IdempotencyKey.safeParse(ctx.idempotencyKey);
      if (!parsed.success) {
        throw new AppError("invalid_input", "Idempotency-Key: must be 1 to 255 characters");
      }
      return next({ ctx: { idempotencyKey: parsed.data } });
    });

/** A procedure that needs `scope` (checked by `authedProcedure`). */
export const scopedProcedure = (scope: ApiKey.Scope) => authedProcedure.meta({ scope });
