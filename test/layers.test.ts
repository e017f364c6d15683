// The layers (.dependency-cruiser.cjs, docs/architecture.md) are checked by `npm run check`. This
// test shows that check is not empty: run the same way on a fixture whose every file breaks a rule,
// it fails and names each import that broke one.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

/** `npm run check:layers`, in `cwd`: its exit status and what it printed. */
function checkLayers(cwd: string) {
  const result = spawnSync(
    join(root, "node_modules/.bin/depcruise"),
    ["--config", join(root, ".dependency-cruiser.cjs"), "packages"],
    { cwd, encoding: "utf8" },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("the layers check", () => {
  it("passes on the repository", () => {
    const { status, output } = checkLayers(root);
    expect(output).toContain("no dependency violations found");
    expect(status).toBe(0);
  });

  it("fails on a fixture that breaks every rule, naming each import that broke one", () => {
    const { status, output } = checkLayers(join(root, "test/fixtures/layers"));
    const core = "packages/core/src";
    const broken = [
      `ground-imports-ground: ${core}/db/index.ts → ${core}/delivery/index.ts`,
      `ground-imports-ground: ${core}/clock/index.ts → ${core}/sms/sms.sql.ts`,
      `only-the-schema-index-gathers-tables: ${core}/clock/index.ts → ${core}/sms/sms.sql.ts`,
      `schema-index-imports-tables: ${core}/db/schema.ts → ${core}/delivery/index.ts`,
      `tables-import-tables: ${core}/sms/sms.sql.ts → ${core}/otp/index.ts`,
      `adapters-import-ground: ${core}/email/ses.ts → ${core}/delivery/index.ts`,
      `domain-imports-below-features: ${core}/delivery/index.ts → ${core}/otp/index.ts`,
      `channel-sends-import-no-otp: ${core}/email/index.ts → ${core}/otp/index.ts`,
      `core-imports-no-entry-point: ${core}/otp/index.ts → packages/local/src/main.ts`,
      "api-imports-no-runtime: packages/api/src/app.ts → packages/local/src/main.ts",
      `no-circular: ${core}/delivery/index.ts → \n      ${core}/notification/index.ts →\n      ${core}/delivery/index.ts`,
    ];
    for (const line of broken) expect(output).toContain(`error ${line}`);
    // The schema index's own table import is allowed: it is the one place that gathers them.
    expect(output).not.toContain(`${core}/db/schema.ts → ${core}/sms/sms.sql.ts`);
    expect(status).not.toBe(0);
  });
});
