import { AppError, type Reason } from "@pregon/core";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/** The one place a core reason becomes an HTTP status (through its tRPC code). */
const codeOf: Record<Reason, TRPC_ERROR_CODE_KEY> = {
  missing_api_key: "UNAUTHORIZED",
  invalid_api_key: "UNAUTHORIZED",
  api_key_revoked: "UNAUTHORIZED",
  missing_scope: "FORBIDDEN",
  not_found: "NOT_FOUND",
  already_exists: "CONFLICT",
  invalid_input: "BAD_REQUEST",
  invalid_template: "BAD_REQUEST",
  sender_not_allowed: "BAD_REQUEST",
  idempotency_key_reused: "UNPROCESSABLE_CONTENT",
  rate_limited: "TOO_MANY_REQUESTS",
  template_not_found: "NOT_FOUND",
  otp_cooldown: "TOO_MANY_REQUESTS",
  otp_destination_limit: "TOO_MANY_REQUESTS",
  otp_ip_limit: "TOO_MANY_REQUESTS",
  otp_project_limit: "TOO_MANY_REQUESTS",
  otp_locked: "TOO_MANY_REQUESTS",
};

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({ code: codeOf[error.reason], message: error.message, cause: error });
}

export interface Issue {
  path: PropertyKey[];
  message: string;
}

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

/** The error body of DESIGN §3: `{ code, message, reason?, issues? }`. */
export interface ErrorBody {
  code: TRPC_ERROR_CODE_KEY;
  message: string;
  reason?: string;
  issues?: Issue[];
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

export function errorBody(code: TRPC_ERROR_CODE_KEY, reason: string, message: string): ErrorBody {
  return { code, message, reason };
}
