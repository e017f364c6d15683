import * as Database from "@pregon/core/db";
import { AppError, type Reason, reasons } from "@pregon/core/error";
import * as Log from "@pregon/core/log";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { z } from "zod";

/** The one place a core reason becomes an HTTP status (through its tRPC code). */
const codeOf: Record<Reason, TRPC_ERROR_CODE_KEY> = {
  missing_api_key: "UNAUTHORIZED",
  invalid_api_key: "UNAUTHORIZED",
  api_key_revoked: "UNAUTHORIZED",
  invalid_token: "UNAUTHORIZED",
  token_expired: "UNAUTHORIZED",
  issuer_not_trusted: "UNAUTHORIZED",
  missing_scope: "FORBIDDEN",
  not_found: "NOT_FOUND",
  already_exists: "CONFLICT",
  invalid_input: "BAD_REQUEST",
  invalid_template: "BAD_REQUEST",
  sender_not_allowed: "BAD_REQUEST",
  idempotency_key_reused: "UNPROCESSABLE_CONTENT",
  rate_limited: "TOO_MANY_REQUESTS",
  template_not_found: "NOT_FOUND",
  category_not_found: "NOT_FOUND",
  reputation_paused: "FORBIDDEN",
  otp_cooldown: "TOO_MANY_REQUESTS",
  otp_destination_limit: "TOO_MANY_REQUESTS",
  otp_ip_limit: "TOO_MANY_REQUESTS",
  otp_project_limit: "TOO_MANY_REQUESTS",
  otp_locked: "TOO_MANY_REQUESTS",
  otp_prefix_limit: "TOO_MANY_REQUESTS",
  sms_country_not_allowed: "BAD_REQUEST",
  database_unavailable: "SERVICE_UNAVAILABLE",
};

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({ code: codeOf[error.reason], message: error.message, cause: error });
}

/** The database is out of reach: the caller comes back in a couple of seconds. */
export const databaseUnavailable = () =>
  new AppError("database_unavailable", "The database is unavailable; try again shortly", {
    retryAfterSeconds: 2,
  });

/**
 * The reason a failure gives the caller, whatever threw it: core's own AppError, or the database
 * out of reach (a refused or dropped connection, a query past its deadline), which is no bug.
 */
export function appErrorOf(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const code = Database.unavailable(error);
  if (!code) return undefined;
  // The code only: a failed query's message quotes its parameters.
  Log.logger.warn("database unavailable", { code });
  Log.count("DatabaseUnavailable");
  return databaseUnavailable();
}

/** Retry-After for a refusal that passes, and the RateLimit-* headers for a limit. */
export function retryHeaders(error: AppError): Record<string, string> | undefined {
  const { retry } = error;
  if (!retry) return undefined;
  return {
    "Retry-After": String(retry.retryAfterSeconds),
    ...(retry.limit !== undefined && {
      "RateLimit-Limit": String(retry.limit),
      "RateLimit-Remaining": String(retry.remaining ?? 0),
      "RateLimit-Reset": String(retry.retryAfterSeconds),
    }),
  };
}

/** An AppError as an HTTP answer, for what answers outside the procedures (the app's own routes). */
export function answerOf(error: AppError) {
  const trpc = toTRPCError(error);
  return {
    body: errorBody(trpc.code as ErrorBody["code"], error.reason, error.message),
    status: getHTTPStatusCodeFromError(trpc),
    headers: retryHeaders(error),
  };
}

/** The codes an error body can carry: core's reasons, plus what HTTP itself refuses. */
const errorCodes: [TRPC_ERROR_CODE_KEY, ...TRPC_ERROR_CODE_KEY[]] = [
  "PARSE_ERROR",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "INTERNAL_SERVER_ERROR",
  ...new Set(Object.values(codeOf)),
];

export const Issue = z.looseObject({
  path: z.array(z.union([z.string(), z.number()])).meta({ description: "Where in the input" }),
  message: z.string(),
});
export type Issue = z.infer<typeof Issue>;

/**
 * The one error body of every route, tRPC and REST: `{ code, message, reason?, issues? }` (`code`
 * the tRPC/HTTP code, `reason` the stable cause, `issues` the zod issues of bad input).
 */
export const ErrorBody = z
  .object({
    code: z.enum(errorCodes).meta({ description: "The tRPC code of the HTTP status" }),
    message: z.string(),
    reason: z
      .enum([...reasons, "body_too_large"])
      .optional()
      .meta({ description: "A stable, machine-readable cause to branch on" }),
    issues: z
      .array(Issue)
      .optional()
      .meta({ description: "For invalid_input: the validation issues (zod's, with their code)" }),
  })
  .meta({
    examples: [
      {
        code: "BAD_REQUEST",
        message: "to.0: Invalid email address",
        reason: "invalid_input",
        issues: [{ path: ["to", 0], message: "Invalid email address" }],
      },
    ],
  });
export type ErrorBody = z.infer<typeof ErrorBody>;

function validationIssues(cause: unknown): Issue[] | undefined {
  if (cause instanceof Error && "issues" in cause && Array.isArray(cause.issues)) {
    return cause.issues as Issue[];
  }
  return undefined;
}

/** "to.0: Invalid email address; subject: Required" */
export function describeIssues(issues: Issue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** What an error tells the caller, whichever transport carries it. */
export function describeError(error: TRPCError): ErrorBody {
  const issues = error.code === "BAD_REQUEST" ? validationIssues(error.cause) : undefined;
  if (issues) {
    return { code: error.code, message: describeIssues(issues), reason: "invalid_input", issues };
  }
  if (error.cause instanceof AppError) {
    return { code: error.code, message: error.message, reason: error.cause.reason };
  }
  if (error.code === "INTERNAL_SERVER_ERROR") {
    return { code: error.code, message: "Internal server error" };
  }
  return { code: error.code, message: error.message };
}

export function errorBody(
  code: ErrorBody["code"],
  reason: ErrorBody["reason"],
  message: string,
): ErrorBody {
  return { code, message, reason };
}
