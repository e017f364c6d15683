// Each table is written (inserted into, updated, deleted from) only by the core module whose
// folder defines it; every other module calls that module. docs/architecture.md lists the owners.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const core = join(root, "packages/core/src");

interface Table {
  /** The Drizzle table's name in TypeScript, and in SQL. */
  variable: string;
  name: string;
  /** The core folder that defines it. */
  owner: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !/\.(test|gen)\.ts$/.test(file));
}

const tables: Table[] = sources(core)
  .filter((file) => file.endsWith(".sql.ts"))
  .flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/export const (\w+) = pgTable\(\s*"(\w+)"/g)].map(
      ([, variable, name]) => ({
        variable: variable!,
        name: name!,
        owner: relative(core, file).split("/")[0]!,
      }),
    ),
  );

/** The writes of `table` a source file makes, in Drizzle's query builder or in SQL. */
function writes(source: string, table: Table): string[] {
  const { variable, name } = table;
  const patterns = [
    new RegExp(`\\.(insert|update|delete)\\(${variable}\\)`, "g"),
    new RegExp(
      `\\b(insert\\s+into|update|delete\\s+from)\\s+(\\$\\{${variable}\\}|${name}\\b)`,
      "gi",
    ),
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[0]));
}

describe("table owners", () => {
  it("finds the tables", () => {
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["deliveries", "notifications", "outbox", "projects", "suppressions"]),
    );
  });

  it("lets only the module that defines a table write it", () => {
    const strangers: string[] = [];
    const files = ["core", "api", "functions"].flatMap((p) =>
      sources(join(root, "packages", p, "src")),
    );
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      const path = relative(root, file);
      const folder = relative(core, file).split("/")[0];
      for (const table of tables) {
        if (!path.startsWith("packages/core/") || folder !== table.owner) {
          for (const write of writes(source, table)) strangers.push(`${path}: ${write}`);
        }
      }
    }
    expect(strangers).toEqual([]);
  });

  it("are the ones docs/architecture.md lists", () => {
    const doc = readFileSync(join(root, "docs/architecture.md"), "utf8");
    const start = "<!-- table owners: start -->";
    const section = doc.slice(
      doc.indexOf(start) + start.length,
      doc.indexOf("<!-- table owners: end -->"),
    );
    const listed = [...section.matchAll(/^\|\s*`(\w+)`\s*\|\s*`(\w+)`/gm)].map(
      ([, table, owner]) => `${table}: ${owner}`,
    );
    const owners = tables.map((t) => `${t.name}: ${t.owner}`);
    expect(listed.sort()).toEqual(owners.sort());
  });
});
