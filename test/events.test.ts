// docs/events.md lists every fact type as the code defines it: the table between its markers is
// this file's rendering of the definitions, so the two cannot drift. When a definition changes,
// the failure shows the table to paste.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Fact } from "@pregon/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const start = "<!-- fact types: start -->";
const end = "<!-- fact types: end -->";

/** What a JSON Schema allows, as words: its values when it lists them, else its types. */
function atoms(schema: Record<string, unknown>): string[] {
  if (Array.isArray(schema.anyOf)) return schema.anyOf.flatMap((s) => atoms(s));
  if ("const" in schema) return [`\`${schema.const}\``];
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${value}\``);
  if (schema.format === "uuid") return ["uuid"];
  return [schema.type].flat().map(String);
}

function render(definitions: Fact.Definition[]): string {
  const types = definitions.map((d) => {
    const fields = Object.keys(d.data.shape).map((name) => `\`${name}\``);
    const subject = d.subject ? `\`${d.subject}\`` : "none";
    return `| \`${d.type}\` | ${d.version} | ${subject} | ${fields.join(", ")} | |`;
  });
  const fields = new Map<string, { atoms: Set<string>; descriptions: Set<string> }>();
  for (const definition of definitions) {
    for (const [name, schema] of Object.entries(definition.data.shape)) {
      const field = fields.get(name) ?? { atoms: new Set(), descriptions: new Set() };
      const json = z.toJSONSchema(schema as z.ZodType) as Record<string, unknown>;
      for (const atom of atoms(json)) field.atoms.add(atom);
      field.descriptions.add(z.globalRegistry.get(schema as z.ZodType)?.description ?? "");
      fields.set(name, field);
    }
  }
  const rows = [...fields]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, field]) => {
      // One meaning per name, whichever type carries it.
      expect([...field.descriptions], name).toHaveLength(1);
      return `| \`${name}\` | ${[...field.atoms].join(", ")} | ${[...field.descriptions][0]} |`;
    });
  return [
    "| type | version | subject | data | what happened |",
    "| --- | --- | --- | --- | --- |",
    ...types,
    "",
    "| data field | values | meaning |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n");
}

describe("docs/events.md", () => {
  it("lists every fact type, its version, subject and data, as the definitions say", () => {
    const doc = readFileSync(join(import.meta.dirname, "../docs/events.md"), "utf8");
    const section = doc.slice(doc.indexOf(start) + start.length, doc.indexOf(end)).trim();
    const definitions = [...Fact.all()].sort((a, b) => a.type.localeCompare(b.type));
    expect(definitions.length).toBeGreaterThan(0);
    // Markdown tables are aligned by the formatter: compare cells, not spaces. The types' last
    // column (what happened) is the doc's own words, on either side.
    const types = /^\|\s*(`\w+\.\w+`|type|-+)\s*\|/;
    const cells = (text: string) =>
      text
        .split("\n")
        .map((line) => (types.test(line) ? line.replace(/[^|]*\|\s*$/, "") : line))
        .map((line) => line.replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---"))
        .join("\n");
    expect(cells(section)).toBe(cells(render(definitions)));
  });
});
