import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { renderRestTypes, restTypesFile } from "../scripts/rest-types";

it("src/openapi.gen.ts is what the current router produces (else: npm run generate -w @pregon/sdk)", async () => {
  expect(await readFile(restTypesFile, "utf8")).toBe(await renderRestTypes());
});
