import type { AppRouter } from "@pregon/api";
import {
  createTRPCClient,
  httpLink,
  retryLink,
  type TRPCClient,
  type TRPCLink,
} from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { observable } from "@trpc/server/observable";
import { authorization, type PregonCredentials } from "./auth";
import { checkedFetch, PregonError } from "./error";

export type { PregonCredentials } from "./auth";
export { PregonError, type PregonIssue } from "./error";
export type { AppRouter };

/** What each procedure takes: `RouterInputs["emails"]["send"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** What each procedure answers: `RouterOutputs["otp"]["verify"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type PregonClientOptions = PregonCredentials & {
  /** Where Pregón serves, e.g. "http://localhost:3000" (the client calls `${url}/trpc`). */
  url: string;
  fetch?: typeof fetch;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /**
   * Attempts after the first for calls that are safe to repeat (queries and sends) when no answer
   * came or the server answered 502, 503 or 504. A send keeps its Idempotency-Key across attempts.
   * The wait between attempts doubles from 400 ms, or is the answer's `Retry-After` when longer;
   * an answer that asks for more than 30 s is not retried (its error carries `retryAfterSeconds`).
   * Default 2.
   */
  retries?: number;
};

export type PregonClient = TRPCClient<AppRouter>;

/** Per-call options: `pregon.emails.send.mutate(input, { context: { idempotencyKey } })`. */
export interface PregonCallContext {
  idempotencyKey?: string;
}

/** The procedures that honour `Idempotency-Key` (index.test.ts checks this list against the router). */
export const sendPaths: ReadonlySet<string> = new Set(["emails.send", "sms.send", "push.send"]);

const retryable = new Set([502, 503, 504]);
/** The longest `Retry-After` a call waits out by itself. */
const maxRetryAfterSeconds = 30;

/** Gives each send one Idempotency-Key, kept across retries; the caller's wins. */
const idempotencyLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) => {
    if (!sendPaths.has(op.path)) return next(op);
    const given = (op.context as PregonCallContext).idempotencyKey;
    return next({
      ...op,
      context: { ...op.context, idempotencyKey: given ?? crypto.randomUUID() },
    });
  };

/** Turns every failure into a PregonError. */
const errorLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) =>
      next(op).subscribe({
        next: (value) => observer.next(value),
        error: (error) => observer.error(PregonError.fromClientError(error)),
        complete: () => observer.complete(),
      }),
    );

/**
 * A typed client of every Pregón procedure: `pregon.emails.send.mutate(...)`,
 * `pregon.otp.verify.mutate(...)`, `pregon.notifications.get.query(...)`.
 */
export function createPregonClient(options: PregonClientOptions): PregonClient {
  const retries = options.retries ?? 2;
  // retryLink asks `retryDelayMs` right after `retry` said yes, with the attempt number only: the
  // wait `retry` worked out from the answer is handed over here.
  let delayMs = 0;
  return createTRPCClient<AppRouter>({
    links: [
      errorLink,
      idempotencyLink,
      retryLink({
        retry: ({ op, error, attempts }) => {
          if (attempts > retries || !(op.type === "query" || sendPaths.has(op.path))) return false;
          const { status, retryAfterSeconds = 0 } = PregonError.fromClientError(error);
          if (!(status === undefined || retryable.has(status))) return false;
          if (retryAfterSeconds > maxRetryAfterSeconds) return false;
          delayMs = Math.max(200 * 2 ** attempts, retryAfterSeconds * 1000);
          return true;
        },
        retryDelayMs: () => delayMs,
      }),
      // One request per call: the server does not batch.
      httpLink({
        url: `${options.url.replace(/\/+$/, "")}/trpc`,
        fetch: checkedFetch(options.fetch ?? fetch),
        headers: async ({ op }) => {
          const { idempotencyKey } = op.context as PregonCallContext;
          return {
            ...options.headers,
            authorization: await authorization(options),
            ...(idempotencyKey && { "idempotency-key": idempotencyKey }),
          };
        },
      }),
    ],
  });
}
