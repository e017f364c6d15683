import type { AppRouter } from "@pregon/api";
import { TRPCClientError } from "@trpc/client";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

export interface PregonIssue {
  path: PropertyKey[];
  message: string;
}

/** An answer that is not Pregón's: a gateway's empty 503, a proxy's HTML 502. */
export class UnexpectedResponse extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status} without a Pregón answer`);
    this.name = "UnexpectedResponse";
  }
}

/** Fails on answers that are not JSON, keeping their status (tRPC alone reports a JSON error). */
export function checkedFetch(fetcher: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetcher(input, init);
    if (!response.headers.get("content-type")?.includes("json")) {
      throw new UnexpectedResponse(response.status, response.headers);
    }
    return response;
  };
}

/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
function retryAfterOf(headers: Headers | undefined): number | undefined {
  const value = headers?.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * What every failed call throws. `status` is the HTTP status. When no answer came (the network
 * failed) `status` is undefined and `code` is "NETWORK_ERROR"; when something other than Pregón
 * answered (a proxy, a gateway), `code` is "UNEXPECTED_RESPONSE".
 */
export class PregonError extends TRPCClientError<AppRouter> {
  /** tRPC's code: "BAD_REQUEST", "TOO_MANY_REQUESTS", ... */
  readonly code: TRPC_ERROR_CODE_KEY | "NETWORK_ERROR" | "UNEXPECTED_RESPONSE";
  /** Pregón's reason, when the server gave one: "invalid_input", "rate_limited", "otp_locked", ... */
  readonly reason: string | undefined;
  readonly status: number | undefined;
  /** The fields that failed validation, with what was wrong with each. */
  readonly issues: PregonIssue[] | undefined;
  /** Seconds the server asked to wait before trying again (429, 503), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(error: TRPCClientError<AppRouter>) {
    super(error.message, { cause: error, ...(error.shape && { result: { error: error.shape } }) });
    // TRPCClientError's constructor pins its own prototype; a subclass has to set it back.
    Object.setPrototypeOf(this, PregonError.prototype);
    this.name = "PregonError";
    this.meta = error.meta;
    const data = error.data;
    const answered = error.cause instanceof UnexpectedResponse ? error.cause : error.meta?.response;
    this.status = data?.httpStatus ?? (answered as { status?: number } | undefined)?.status;
    this.retryAfterSeconds = retryAfterOf((answered as { headers?: Headers } | undefined)?.headers);
    this.code = data?.code ?? (this.status === undefined ? "NETWORK_ERROR" : "UNEXPECTED_RESPONSE");
    this.reason = data?.reason;
    this.issues = data?.issues;
  }

  static fromClientError(error: unknown): PregonError {
    if (error instanceof PregonError) return error;
    return new PregonError(TRPCClientError.from<AppRouter>(error as Error));
  }
}
