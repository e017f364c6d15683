import { ApiKey, AppError } from "@pregon/core";
import { initTRPC } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import type { Context } from "./context";
import { describeError, toTRPCError } from "./error";

export type Meta = OpenApiMeta<{
  /** The REST success status; the OpenAPI document and the responses both use it. */
  successStatus?: 200 | 201 | 202;
}>;

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

export const publicProcedure = t.procedure.use(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) throw toTRPCError(result.error.cause);
  return result;
});

export const authedProcedure = publicProcedure.use(async ({ ctx, next }) =>
  next({ ctx: { principal: await ApiKey.authenticate(ctx.apiKey) } }),
);

export const scopedProcedure = (scope: ApiKey.Scope) =>
  authedProcedure.use(({ ctx, next }) => {
    ApiKey.assertScope(ctx.principal, scope);
    return next();
  });
