import fc from "fast-check";

/** The JSON Schema subset zod-openapi emits for inputs. */
export interface Schema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
}

/** Generated sizes stay small: a few items, a few dozen characters. */
const extra = 4;

const formats: Record<string, fc.Arbitrary<string>> = {
  uuid: fc.uuid(),
  "date-time": fc
    .date({ min: new Date("0000-01-01"), max: new Date("9999-12-31"), noInvalidDate: true })
    .map((date) => date.toISOString()),
  ipv4: fc.ipV4(),
  ipv6: fc.ipV6(),
};

function string(schema: Schema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? Number.POSITIVE_INFINITY, minLength + 30);
  const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
  const base =
    formats[schema.format ?? ""] ??
    (pattern ? fc.stringMatching(pattern) : fc.string({ minLength, maxLength }));
  return base.filter(
    (value) =>
      value.length >= minLength &&
      value.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY) &&
      (!pattern || pattern.test(value)),
  );
}

function integer(schema: Schema): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum ?? -1_000_001) + 1;
  const max = schema.maximum ?? (schema.exclusiveMaximum ?? 1_000_001) - 1;
  return fc.integer({ min: Math.max(min, -1_000_000), max: Math.min(max, 1_000_000) });
}

function object(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0 && schema.additionalProperties) {
    return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: extra,
    });
  }
  return fc.record(
    Object.fromEntries(properties.map(([name, property]) => [name, valid(property)])),
    { requiredKeys: schema.required ?? [] },
  );
}

/** Values the schema accepts. */
export function valid(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(valid));
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type) => valid({ ...schema, type })));
  }
  switch (schema.type) {
    case "string":
      return string(schema);
    case "integer":
      return integer(schema);
    case "number":
      return fc.double({ min: -1e6, max: 1e6, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? Number.POSITIVE_INFINITY, minLength + extra);
      return fc.array(valid(schema.items ?? {}), { minLength, maxLength });
    }
    case "object":
      return object(schema);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values of another JSON type than the schema's. */
function wrongType(schema: Schema): fc.Arbitrary<unknown> {
  const types = [schema.type ?? []].flat();
  const others: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 10 }),
    integer: fc.integer(),
    number: fc.double({ noNaN: true, min: 0.1, max: 0.9 }),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.array(fc.integer(), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  };
  const accepted = (type: string) =>
    types.includes(type) || (type === "integer" && types.includes("number"));
  return fc.oneof(...Object.entries(others).flatMap(([type, arb]) => (accepted(type) ? [] : arb)));
}

/** Values the schema refuses: a wrong type, out of range, or an object missing or breaking a field. */
export function invalid(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.anyOf || schema.type === undefined) return wrongType({ type: "object" });
  const options: fc.Arbitrary<unknown>[] = [wrongType(schema)];
  const { minLength, maxLength, minimum, maximum, minItems, maxItems, required = [] } = schema;
  if (schema.enum)
    options.push(fc.string({ maxLength: 8 }).filter((s) => !schema.enum!.includes(s)));
  if (minLength) options.push(fc.constant(""));
  if (maxLength !== undefined && maxLength < 1000) {
    options.push(fc.string({ minLength: maxLength + 1, maxLength: maxLength + 5 }));
  }
  if (schema.pattern) options.push(fc.constantFrom(" ", "..", "ü", "a b"));
  if (schema.type === "integer") {
    options.push(fc.constant(1.5));
    if (minimum !== undefined) options.push(fc.constant(minimum - 1));
    if (maximum !== undefined) options.push(fc.constant(maximum + 1));
  }
  if (minItems) options.push(fc.constant([]));
  if (maxItems !== undefined && maxItems < 100) {
    options.push(fc.array(valid(schema.items ?? {}), { minLength: maxItems + 1 }));
  }
  if (schema.type === "object" && schema.properties) {
    const valueArb = valid(schema) as fc.Arbitrary<Record<string, unknown>>;
    if (required.length) {
      const missing = fc.tuple(valueArb, fc.constantFrom(...required));
      options.push(missing.map(([value, name]) => ({ ...value, [name]: undefined })));
    }
    for (const [name, property] of Object.entries(schema.properties)) {
      options.push(
        fc.tuple(valueArb, invalid(property)).map(([value, bad]) => ({ ...value, [name]: bad })),
      );
    }
  }
  return fc.oneof(...options);
}
