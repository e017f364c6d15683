/**
 * Every failure core reports on purpose. The API maps each reason to an HTTP status in one place
 * (packages/api/src/error.ts); clients read `reason` to tell causes apart.
 */
export const reasons = [
  "missing_api_key",
  "invalid_api_key",
  "api_key_revoked",
  "invalid_token",
  "token_expired",
  "issuer_not_trusted",
  "missing_scope",
  "not_found",
  "already_exists",
  "invalid_input",
  "invalid_template",
  "sender_not_allowed",
  "idempotency_key_reused",
  "rate_limited",
  "template_not_found",
  "category_not_found",
  "reputation_paused",
  "otp_cooldown",
  "otp_destination_limit",
  "otp_ip_limit",
  "otp_project_limit",
  "otp_locked",
  "otp_prefix_limit",
  "sms_country_not_allowed",
  "database_unavailable",
] as const;

export type Reason = (typeof reasons)[number];

/** For a refusal that passes: when to come back, and for a limit, the limit and what is left. */
export interface RetryInfo {
  retryAfterSeconds: number;
  limit?: number;
  remaining?: number;
}

export class AppError extends Error {
  override readonly name = "AppError";

  constructor(
    readonly reason: Reason,
    message: string,
    readonly retry?: RetryInfo,
  ) {
    super(message);
  }
}

/** A provider's refusal to send, telling whether a retry can help. */
export class SendError extends Error {
  override readonly name = "SendError";

  constructor(
    message: string,
    /** true: this message will never be accepted (bad address, rejected content, dead endpoint). */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}
