import * as Fact from "@pregon/core/fact";
import * as Idempotency from "@pregon/core/idempotency";
import type { AnyProcedure } from "@trpc/server";
import { generateOpenApiDocument, type OpenApiMeta } from "trpc-to-openapi";
import { z } from "zod";
import type { oas31 } from "zod-openapi";
import { ErrorBody } from "./error";
import { appRouter } from "./router";
import type { Meta } from "./trpc";

const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;

function metaOf(path: string): Meta | undefined {
  return procedures[path]?._def.meta as Meta | undefined;
}

/** Meta restates trpc-to-openapi's block (trpc.ts says why); this is where it must still fit. */
const openapiOf = (meta: Meta | undefined): OpenApiMeta["openapi"] => meta?.openapi;

/** Sends take it (`sendProcedure`); app.ts reads it, the procedure's input does not. */
const idempotencyKeyParameter: oas31.ParameterObject = {
  in: "header",
  name: "Idempotency-Key",
  description:
    "Makes the request safe to retry: the same key with the same body within 24 hours returns the first response and sends nothing again; with another body, 422.",
  schema: (({ $schema: _, ...schema }) => schema)(
    z.toJSONSchema(Idempotency.Key),
  ) as oas31.SchemaObject,
};

/** The REST status of a procedure's success (trpc-to-openapi alone would answer 200). */
export function successStatus(path: string | undefined): number {
  return (path && metaOf(path)?.successStatus) || 200;
}

type ErrorStatus = 400 | 401 | 403 | 404 | 413 | 415 | 422 | 429 | 500 | 503;

/** What each error status means, by the `reason`s it carries (error.ts maps reasons to codes). */
const errorDescriptions: Record<ErrorStatus, string> = {
  400: "Invalid input: `invalid_input` (with `issues`: an unknown field or query parameter is an `unrecognized_keys` issue naming it), `invalid_template`, `sender_not_allowed` or `sms_country_not_allowed`; `PARSE_ERROR` for a body that is not JSON",
  401: "No valid API key: `missing_api_key`, `invalid_api_key` or `api_key_revoked`",
  403: "The key lacks the operation's scope: `missing_scope`",
  404: "Not found in the key's project (`not_found`, `template_not_found`), or no such route",
  413: "The body exceeds 5 MB: `body_too_large`",
  415: "The body is not `application/json`",
  422: "The Idempotency-Key was used with another body: `idempotency_key_reused`",
  429: "A limit was reached: `rate_limited`, `otp_cooldown`, `otp_destination_limit`, `otp_ip_limit`, `otp_project_limit`, `otp_prefix_limit` or `otp_locked`",
  500: "Internal server error",
  503: "The database is unavailable (`database_unavailable`): nothing was done; try again after `Retry-After` seconds",
};

/** Sent with every 429 (app.ts `limitHeaders`). */
const limitHeaders = {
  "Retry-After": "Seconds to wait before trying again",
  "RateLimit-Limit": "The limit that was reached",
  "RateLimit-Remaining": "What is left of it",
  "RateLimit-Reset": "Seconds until it resets",
};

/** The error statuses an operation can answer: those its shape implies, plus the ones its meta names. */
function errorStatuses(meta: Meta): ErrorStatus[] {
  const { method, path, protect = true } = openapiOf(meta)!;
  const takesBody = method !== "GET" && method !== "DELETE";
  // 400: every operation refuses unknown query parameters, at least; 503: every operation reads the
  // database, if only to check the key.
  const statuses = new Set<ErrorStatus>([400, 500, 503, ...(meta.errors ?? [])]);
  if (meta.idempotent) statuses.add(422);
  if (takesBody) statuses.add(413).add(415);
  if (protect) statuses.add(401);
  if (meta.scope) statuses.add(403);
  if (path.includes("{")) statuses.add(404);
  return [...statuses].sort((a, b) => a - b);
}

function errorResponse(status: ErrorStatus): oas31.ResponseObject {
  return {
    description: errorDescriptions[status],
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    ...((status === 429 || status === 503) && {
      headers: Object.fromEntries(
        Object.entries(
          status === 429 ? limitHeaders : { "Retry-After": limitHeaders["Retry-After"] },
        ).map(([name, description]) => [
          name,
          { description, required: true, schema: { type: "integer", minimum: 0 } },
        ]),
      ),
    }),
  };
}

/** Spreads the meta's example over the parameters, the body and the success response. */
function addExamples(
  operation: oas31.OperationObject,
  success: oas31.ResponseObject,
  example: Meta["example"],
) {
  const rest = { ...example?.request };
  for (const parameter of (operation.parameters ?? []) as oas31.ParameterObject[]) {
    if (!(parameter.name in rest)) continue;
    parameter.example = rest[parameter.name];
    delete rest[parameter.name];
  }
  const body = (operation.requestBody as oas31.RequestBodyObject | undefined)?.content[
    "application/json"
  ];
  if (body) body.example = rest;
  const content = success.content?.["application/json"];
  if (content && example) content.example = example.response;
}

/**
 * trpc-to-openapi rebuilds a refined input (one with a superRefine) as a plain object, so its body
 * schema loses the input's `additionalProperties: false`: put it back.
 */
function keepClosed(operation: oas31.OperationObject, input: unknown) {
  const body = (operation.requestBody as oas31.RequestBodyObject | undefined)?.content[
    "application/json"
  ]?.schema as oas31.SchemaObject | undefined;
  if (!body || !(input instanceof z.ZodType)) return;
  const schema = z.toJSONSchema(input, { io: "input", unrepresentable: "any" });
  if (schema.additionalProperties === false) body.additionalProperties = false;
}

/** "notifications.deliveries" -> "notificationsDeliveries" */
const operationId = (path: string) =>
  path.replace(/\.(\w)/g, (_, letter: string) => letter.toUpperCase());

export function buildOpenApiDocument() {
  const document = generateOpenApiDocument(appRouter, {
    title: "Pregón API",
    version: "1.0.0",
    description:
      "Email, SMS and push notifications and one-time codes. Authenticate with `Authorization: Bearer <API key>`. Errors are `{code, message, reason?, issues?}` (the Error schema).",
    baseUrl: "/",
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", description: "A Pregón API key" },
    },
    defs: { Error: ErrorBody },
  });
  // trpc-to-openapi's error shape is not the one the app answers with (app.ts `restErrorBody`).
  const schemas = document.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) if (name.startsWith("error.")) delete schemas[name];

  for (const path of Object.keys(procedures)) {
    const meta = metaOf(path);
    const openapi = openapiOf(meta);
    if (!meta || !openapi) continue;
    const { method, path: route } = openapi;
    const operation = document.paths?.[route]?.[
      method.toLowerCase() as "get"
    ] as oas31.OperationObject;
    const success = operation.responses?.["200"] as oas31.ResponseObject;
    operation.operationId = operationId(path);
    if (meta.scope) operation.description += ` Needs the \`${meta.scope}\` scope.`;
    if (meta.idempotent) {
      operation.parameters = [...(operation.parameters ?? []), { ...idempotencyKeyParameter }];
    }
    keepClosed(operation, procedures[path]?._def.inputs[0]);
    addExamples(operation, success, meta.example);
    operation.responses = {
      [successStatus(path)]: success,
      ...Object.fromEntries(errorStatuses(meta).map((status) => [status, errorResponse(status)])),
    };
  }
  document.webhooks = webhooks();
  return document;
}

const signatureHeaders: oas31.ParameterObject[] = [
  {
    name: "webhook-id",
    in: "header",
    required: true,
    description:
      "The message's id (`msg_…`): the same on every attempt of one fact to one endpoint; use it to drop repeats",
    schema: { type: "string" },
  },
  {
    name: "webhook-timestamp",
    in: "header",
    required: true,
    description: "Seconds since the epoch when it was sent; refuse one far from your clock",
    schema: { type: "string" },
  },
  {
    name: "webhook-signature",
    in: "header",
    required: true,
    description:
      "`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the endpoint's secret; during a rotation two, space-separated (the new secret's and the old one's)",
    schema: { type: "string" },
  },
];

/**
 * What an endpoint receives, one entry per fact type (OpenAPI 3.1 `webhooks`): the fact as
 * published, its `data` as its type and version define it, signed as Standard Webhooks says.
 */
function webhooks(): Record<string, oas31.PathItemObject> {
  const entries = [...Fact.all()]
    .sort((a, b) => a.type.localeCompare(b.type))
    .map((definition) => {
      const body = Fact.Envelope.extend({
        type: z.literal(definition.type),
        version: z.literal(definition.version),
        subject: definition.subject === null ? z.null() : z.string(),
        data: definition.data,
      });
      const { $schema: _, ...schema } = z.toJSONSchema(body, { io: "output" }) as Record<
        string,
        unknown
      >;
      const post: oas31.OperationObject = {
        operationId: `webhook_${definition.type.replace(/\W/g, "_")}`,
        tags: ["webhooks"],
        summary: `${definition.type} (version ${definition.version})`,
        description: `POSTed to each enabled endpoint whose \`eventTypes\` is empty or holds \`${definition.type}\`, signed with its secret (Standard Webhooks). A 2xx within 10 s counts as delivered; anything else is retried with exponential backoff for more than a day, then the message goes to the dead-letter queue.`,
        parameters: signatureHeaders,
        requestBody: {
          required: true,
          content: { "application/json": { schema: schema as oas31.SchemaObject } },
        },
        responses: { "2XX": { description: "Received" } },
      };
      return [definition.type, { post }] as const;
    });
  return Object.fromEntries(entries);
}
