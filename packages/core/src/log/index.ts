import { LogFormatter, Logger, LogItem } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import * as Actor from "../actor";

/**
 * One logger for every entry point. Whatever reaches a log line passes through `redact`, so an API
 * key, an OTP code or a message body cannot be written even when a caller logs a whole object.
 */
export const redacted = "[redacted]";

/** Fields whose value is never logged, at any depth. */
const secretFields =
  /^(authorization|x-api-key|api_?key|secret|token|password|pepper|otp|html|text|subject|body|variables|cookie|set-cookie)$/i;
/** A `code` field is logged unless it looks like a one-time code; error codes stay readable. */
const otpCode = /^\d{4,10}$/;
const secretPatterns = [
  /\bBearer\s+[^\s"',;]+/gi,
  /\bprg_[A-Za-z0-9_-]{16,}/g,
  /\bwhsec_[A-Za-z0-9+/=]{16,}/g,
  // A JWT: its header and payload are base64url JSON, so both start with "eyJ".
  /\beyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g,
  // An unsubscribe link's token, which acts for its recipient (in a path or a whole URL).
  /(?<=\/u\/)[A-Za-z0-9_-]{16,}/g,
];
const knownSecrets = new Set<string>();

/** Registers a secret that does not look like one (a bootstrap key, a pepper) to scrub from logs. */
export function registerSecret(secret: string): void {
  if (secret.length >= 8) knownSecrets.add(secret);
}

export function scrub(text: string): string {
  let out = text;
  for (const pattern of secretPatterns) out = out.replace(pattern, redacted);
  for (const secret of knownSecrets) out = out.replaceAll(secret, redacted);
  return out;
}

/** A JSON.stringify replacer: drops secret fields, scrubs secrets out of every string. */
export function redact(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (secretFields.test(key)) return redacted;
  if (key.toLowerCase() === "code" && otpCode.test(String(value))) return redacted;
  if (typeof value === "string") return scrub(value);
  return value;
}

/**
 * What an error line may say of an error: its class, codes and where it was thrown. Never its
 * message: a database error's message quotes the statement's parameters (addresses, names,
 * variables, device tokens) and a provider's quotes the recipient. Postgres's own fields name
 * the schema (table, column, constraint), not the data.
 */
const errorFields = [
  "code",
  "errno",
  "severity",
  "routine",
  "schema_name",
  "table_name",
  "column_name",
  "constraint_name",
  "$fault",
];

/** The ids of the current actor a log line carries: its request's, and its key's or token's. */
function actorIds() {
  const actor = Actor.current();
  return {
    requestId: actor && "requestId" in actor ? actor.requestId : undefined,
    keyId: actor?.type === "key" ? actor.keyId : undefined,
    tokenIssuer: actor?.type === "token" ? actor.issuer : undefined,
    tokenSubject: actor?.type === "token" ? actor.subject : undefined,
  };
}

/** Powertools' standard keys, plus the current request's id and key id on every line. */
class ContextFormatter extends LogFormatter {
  override formatError(error: Error): LogAttributes {
    const fields = error as unknown as Record<string, unknown>;
    const formatted: LogAttributes = {
      name: error.name,
      location: this.getCodeLocation(error.stack),
      stack: error.stack?.split("\n").filter((line) => /^\s+at /.test(line)),
    };
    for (const key of errorFields) {
      const value = fields[key];
      if (typeof value === "string" || typeof value === "number") formatted[key] = value;
    }
    const status = (fields.$metadata as { httpStatusCode?: unknown } | undefined)?.httpStatusCode;
    if (typeof status === "number") formatted.httpStatusCode = status;
    if (error.cause instanceof Error) formatted.cause = this.formatError(error.cause);
    return formatted;
  }

  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes) {
    const lambda = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: lambda?.coldStart,
        function_name: lambda?.functionName,
        function_request_id: lambda?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
        ...actorIds(),
      },
    }).addAttributes(additional);
  }
}

export const logger = new Logger({
  serviceName: "pregon",
  logLevel: (process.env.LOG_LEVEL ?? "INFO").toUpperCase() as "INFO",
  jsonReplacerFn: redact,
  logFormatter: new ContextFormatter(),
});

let metricsInstance: Metrics | undefined;

/**
 * CloudWatch metrics in the Embedded Metric Format (EMF log lines, no API calls). Made on first
 * use, so an entry point can set POWERTOOLS_METRICS_DISABLED (the local stack does) before. Each
 * deployed stage's metrics carry its name (PREGON_STAGE, a `stage` dimension), so stages sharing an
 * account are counted and alarmed on apart.
 */
export function metrics(): Metrics {
  const stage = process.env.PREGON_STAGE;
  metricsInstance ??= new Metrics({
    namespace: "Pregon",
    serviceName: "pregon",
    ...(stage && { defaultDimensions: { stage } }),
  });
  return metricsInstance;
}

export { MetricUnit };

/** Counts something that happened (a metric of unit Count). */
export function count(name: string, value = 1): void {
  if (value > 0) metrics().addMetric(name, MetricUnit.Count, value);
}

/** Writes the metrics gathered so far: at the end of each invocation and request. */
export function flushMetrics(): void {
  const current = metricsInstance;
  if (current?.hasStoredMetrics()) current.publishStoredMetrics();
}
