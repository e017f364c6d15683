import { createApp } from "@pregon/api";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { invalid, type Schema, valid } from "./support/arbitrary";
import { bearer, projectWithKey, settings } from "./support/fixtures";

/**
 * Every REST operation of /openapi.json, driven with inputs generated from its own schemas, valid
 * and not: never a 5xx, only statuses the document declares, bodies as it declares them.
 */

const app = createApp(settings);
const document = await (await app.request("/openapi.json")).json();

interface Parameter {
  in: "path" | "query" | "header";
  name: string;
  required?: boolean;
  schema: Schema;
  example?: unknown;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<
    string,
    { headers?: Record<string, { required?: boolean }>; content: Record<string, unknown> }
  >;
}

const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>)
  .flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ route, method, operation })),
  )
  .map((entry) => ({
    ...entry,
    pointer: `/paths/${entry.route.replaceAll("/", "~1")}/${entry.method}`,
    params: (location: Parameter["in"]) =>
      (entry.operation.parameters ?? []).filter((parameter) => parameter.in === location),
  }));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(document, "openapi.json");
const schemaAt = (pointer: string) =>
  ajv.compile({ $ref: `openapi.json#${pointer.split("/").map(encodeURIComponent).join("/")}` });

type Auth = "admin" | "narrow" | "none" | "unknown";
interface Call {
  auth: Auth;
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  /** A JSON value; or, when `raw` is set, that text with that content type. */
  body?: unknown;
  raw?: { text: string; contentType: string };
}

let secrets: Record<Auth, string | undefined>;
/** Parameter values that exist (a template key, a notification's id): from running the examples. */
const known: Record<string, unknown[]> = {};

/** How a generated value travels in a URL or a header. */
const onTheWire = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

async function send({ route, method }: { route: string; method: string }, call: Call) {
  const path = route.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(call.path[name] ?? "")),
  );
  const query = new URLSearchParams(
    Object.entries(call.query).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, onTheWire(value)]],
    ),
  ).toString();
  const secret = secrets[call.auth];
  const headers: Record<string, string> = {
    ...(secret && bearer(secret)),
    ...Object.fromEntries(
      Object.entries(call.headers).map(([name, value]) => [name, onTheWire(value)]),
    ),
  };
  let body: string | undefined;
  if (call.raw) {
    body = call.raw.text;
    headers["content-type"] = call.raw.contentType;
  } else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers["content-type"] = "application/json";
  }
  const response = await app.request(`${path}${query && `?${query}`}`, {
    method: method.toUpperCase(),
    headers,
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** Checks one response against the operation's declared responses. */
function expectDeclared(
  entry: (typeof operations)[number],
  response: Awaited<ReturnType<typeof send>>,
  call: Call,
) {
  const context = `${entry.method.toUpperCase()} ${entry.route} ${JSON.stringify(call)} -> ${response.status} ${response.text.slice(0, 500)}`;
  expect(response.status, context).toBeLessThan(500);
  const declared = entry.operation.responses[response.status];
  expect(declared, `undeclared status: ${context}`).toBeDefined();
  for (const [name, header] of Object.entries(declared!.headers ?? {})) {
    if (header.required) expect(response.headers.get(name), `${name}: ${context}`).not.toBeNull();
  }
  const validate = schemaAt(
    `${entry.pointer}/responses/${response.status}/content/application~1json/schema`,
  );
  const ok = validate(JSON.parse(response.text));
  expect(ok ? [] : validate.errors, context).toEqual([]);
}

function object(parameters: Parameter[], value: (p: Parameter) => fc.Arbitrary<unknown>) {
  return fc.record(
    Object.fromEntries(parameters.map((parameter) => [parameter.name, value(parameter)])),
    { requiredKeys: parameters.filter((p) => p.required).map((p) => p.name) },
  );
}

const auth = fc.constantFrom<Auth>("admin", "admin", "admin", "admin", "narrow", "none", "unknown");

/** A value of the parameter's schema, or one that exists (or its example: a reused Idempotency-Key). */
function parameterValue(parameter: Parameter): fc.Arbitrary<unknown> {
  const existing = [...(known[parameter.name] ?? []), parameter.example].filter(
    (value) => value !== undefined,
  );
  if (existing.length === 0) return valid(parameter.schema);
  return fc.oneof(valid(parameter.schema), fc.constantFrom(...existing));
}

function validCall(entry: (typeof operations)[number]): fc.Arbitrary<Call> {
  const bodySchema = entry.operation.requestBody?.content["application/json"]?.schema;
  const body = bodySchema ? valid(bodySchema) : fc.constant(undefined);
  const generated = fc.record({
    auth,
    path: object(entry.params("path"), parameterValue),
    query: object(entry.params("query"), parameterValue),
    headers: object(entry.params("header"), parameterValue),
    body,
  });
  // The example with generated fields over it: valid more often than a generated body alone, and
  // with the example's Idempotency-Key, the key reused with another body.
  const variation = fc.tuple(auth, body).map(([auth, fields]) => {
    const call = exampleCall(entry, auth);
    return fields === undefined ? call : { ...call, body: { ...(call.body as object), ...fields } };
  });
  return fc.oneof(
    generated,
    variation,
    auth.map((auth) => exampleCall(entry, auth)),
  );
}

function exampleCall(entry: (typeof operations)[number], auth: Auth): Call {
  const example = (location: Parameter["in"]) =>
    Object.fromEntries(entry.params(location).map((p) => [p.name, p.example]));
  return {
    auth,
    path: example("path"),
    query: example("query"),
    headers: example("header"),
    body: entry.operation.requestBody?.content["application/json"]?.example,
  };
}

/** Not ids; no empty or dot segment either: the URL would name another route (GET /v1/templates/). */
const malformedSegment = fc
  .oneof(
    fc.constantFrom(
      " ",
      "%",
      "%zz",
      "a/b",
      "null",
      "0",
      "😀",
      "00000000-0000-0000-0000-00000000000g",
    ),
    fc.string({ maxLength: 40, unit: "grapheme" }),
  )
  .filter((segment) => !["", ".", ".."].includes(segment));

function invalidCall(entry: (typeof operations)[number]): fc.Arbitrary<Call> {
  const bodySchema = entry.operation.requestBody?.content["application/json"]?.schema;
  const breakOne = (location: "path" | "query" | "headers", parameters: Parameter[]) =>
    parameters.map((parameter) =>
      fc
        .tuple(validCall(entry), location === "path" ? malformedSegment : invalid(parameter.schema))
        .map(([call, bad]) => ({
          ...call,
          [location]: { ...call[location], [parameter.name]: bad },
        })),
    );
  const mutations = [
    ...breakOne("path", entry.params("path")),
    ...breakOne("query", entry.params("query")),
    ...breakOne("headers", entry.params("header")),
    ...(bodySchema
      ? [
          fc
            .tuple(validCall(entry), invalid(bodySchema))
            .map(([call, body]) => ({ ...call, body })),
          fc.tuple(validCall(entry), fc.jsonValue()).map(([call, body]) => ({ ...call, body })),
          fc
            .tuple(validCall(entry), fc.constantFrom("{nope", "", "[1,", "\u0000"))
            .map(([call, text]) => ({ ...call, raw: { text, contentType: "application/json" } })),
          fc
            .tuple(validCall(entry), fc.constantFrom("text/plain", "application/xml"))
            .map(([call, contentType]) => ({ ...call, raw: { text: "{}", contentType } })),
        ]
      : []),
  ];
  // An operation without inputs still gets junk: unexpected query parameters.
  const junkQuery = fc
    .tuple(
      validCall(entry),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
    )
    .map(([call, query]) => ({ ...call, query: { ...call.query, ...query } }));
  return fc.oneof(junkQuery, ...mutations);
}

beforeAll(async () => {
  const admin = await projectWithKey(["admin"]);
  const narrow = await projectWithKey(["otp:verify"]);
  secrets = {
    admin: admin.secret,
    narrow: narrow.secret,
    none: undefined,
    unknown: "prg_unknownunknownunknownunknownunknownunknown",
  };
  // Run every example once, so that valid calls also reach things that exist: a stored template,
  // a send's notification, an OTP.
  const names = new Set(operations.flatMap((entry) => entry.params("path").map((p) => p.name)));
  for (const entry of operations) {
    const call = exampleCall(entry, "admin");
    const response = await send(entry, call);
    expect(response.status, `${entry.operation.operationId}: ${response.text}`).toBeLessThan(500);
    const body = response.status < 300 ? JSON.parse(response.text) : {};
    for (const name of names) {
      for (const value of [call.path[name], body[name]]) {
        if (typeof value === "string") known[name] = [...new Set([...(known[name] ?? []), value])];
      }
    }
  }
});

describe("the OpenAPI document", () => {
  it("has examples that match their schemas", () => {
    for (const { operation, pointer, route } of operations) {
      for (const [index, parameter] of (operation.parameters ?? []).entries()) {
        if (parameter.example === undefined) continue;
        const validate = schemaAt(`${pointer}/parameters/${index}/schema`);
        expect(validate(parameter.example), `${route} ${parameter.name}`).toBe(true);
      }
      if (operation.requestBody) {
        const validate = schemaAt(`${pointer}/requestBody/content/application~1json/schema`);
        const example = operation.requestBody.content["application/json"]?.example;
        expect(validate(example) ? [] : validate.errors, route).toEqual([]);
      }
      const [status, success] = Object.entries(operation.responses)[0]!;
      const validate = schemaAt(`${pointer}/responses/${status}/content/application~1json/schema`);
      const example = (success.content["application/json"] as { example: unknown }).example;
      expect(validate(example) ? [] : validate.errors, `${route} ${status}`).toEqual([]);
    }
  });
});

describe.each(operations)("$method $route", (entry) => {
  it("answers valid input as declared", async () => {
    await fc.assert(
      fc.asyncProperty(validCall(entry), async (call) =>
        expectDeclared(entry, await send(entry, call), call),
      ),
      { numRuns: 30 },
    );
  });

  it("answers invalid input as declared", async () => {
    await fc.assert(
      fc.asyncProperty(invalidCall(entry), async (call) =>
        expectDeclared(entry, await send(entry, call), call),
      ),
      { numRuns: 30 },
    );
  });
});
