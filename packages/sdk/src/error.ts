import type { AppRouter } from "@pregon/api";
import { TRPCClientError } from "@trpc/client";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

export interface PregonIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * What every failed call throws. `status` is the HTTP status; when no answer came (the network
 * failed), `status` is undefined and `code` is "NETWORK_ERROR".
 */
export class PregonError extends TRPCClientError<AppRouter> {
  /** tRPC's code: "BAD_REQUEST", "TOO_MANY_REQUESTS", ... */
  readonly code: TRPC_ERROR_CODE_KEY | "NETWORK_ERROR";
  /** Pregón's reason, when the server gave one: "invalid_input", "rate_limited", "otp_locked", ... */
  readonly reason: string | undefined;
  readonly status: number | undefined;
  /** The fields that failed validation, with what was wrong with each. */
  readonly issues: PregonIssue[] | undefined;

  constructor(error: TRPCClientError<AppRouter>) {
    super(error.message, { cause: error, ...(error.shape && { result: { error: error.shape } }) });
    // TRPCClientError's constructor pins its own prototype; a subclass has to set it back.
    Object.setPrototypeOf(this, PregonError.prototype);
    this.name = "PregonError";
    this.meta = error.meta;
    const data = error.data;
    this.code = data?.code ?? "NETWORK_ERROR";
    this.status = data?.httpStatus;
    this.reason = data?.reason;
    this.issues = data?.issues;
  }

  static fromClientError(error: unknown): PregonError {
    if (error instanceof PregonError) return error;
    return new PregonError(TRPCClientError.from<AppRouter>(error as Error));
  }
}
