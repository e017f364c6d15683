/**
 * @pregon/sdk as a user gets it: packed, installed from the tarball into an empty project that has
 * nothing but the SDK's declared dependencies, type-checked, then run against this file's stack.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectWithKey, settings } from "./support/fixtures";

const root = join(import.meta.dirname, "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");
const run = promisify(execFile);

let work: string;
let tarball: string;
let server: Server;
let url: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pregon-sdk-"));
  // prepack builds dist/ (esbuild for the JS, rollup-plugin-dts for the declarations).
  const { stdout } = await run(
    "npm",
    ["pack", "--workspace", "packages/sdk", "--pack-destination", work, "--json"],
    { cwd: root, maxBuffer: 10_000_000 },
  );
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
  tarball = join(work, packed!.filename);

  const app = join(work, "app");
  await run("mkdir", ["-p", app]);
  await writeFile(join(app, "package.json"), JSON.stringify({ type: "module", private: true }));
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], {
    cwd: app,
  });

  server = serve({ fetch: createApp(settings).fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((ready) => server.once("listening", ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  await new Promise((done) => server?.close(done));
  await rm(work, { recursive: true, force: true });
});

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: false,
    outDir: "out",
    types: [],
    // @trpc/server's declarations use Disposable (lib esnext.disposable), as tRPC documents.
    lib: ["ESNext", "DOM"],
  },
};

/** Type-checks (and emits) `source` as the only file of the installed project. */
async function compile(source: string) {
  const app = join(work, "app");
  await writeFile(join(app, "main.ts"), source);
  await writeFile(join(app, "tsconfig.json"), JSON.stringify({ ...tsconfig, files: ["main.ts"] }));
  try {
    await run("node", [tsc, "-p", "tsconfig.json"], { cwd: app });
    return "";
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

const program = `
import { createPregonClient, PregonError, type RouterInputs, type RouterOutputs } from "@pregon/sdk";
import { createPregonRestClient } from "@pregon/sdk/rest";

const [url, apiKey] = process.argv.slice(2) as [string, string];
const pregon = createPregonClient({ url, apiKey });

const email: RouterInputs["emails"]["send"] = {
  from: "Pregón <hola@pregon.test>",
  to: [{ email: "ana@example.com", variables: { name: "Ana" } }],
  subject: "Hola {{ name }}",
  text: "Hola {{ name }}",
};
const sent: RouterOutputs["emails"]["send"] = await pregon.emails.send.mutate(email);
const again = await pregon.emails.send.mutate(email, { context: { idempotencyKey: "order-1" } });
const replay = await pregon.emails.send.mutate(email, { context: { idempotencyKey: "order-1" } });

const invalid = await pregon.emails.send
  .mutate({ ...email, to: [{ email: "not an address" }] })
  .catch((error: unknown) => error);
if (!(invalid instanceof PregonError)) throw new Error("expected a PregonError");

const rest = createPregonRestClient({ url, apiKey });
const status = await rest.GET("/v1/notifications/{id}", { params: { path: { id: sent.id } } });
const missing = await rest.GET("/v1/notifications/{id}", {
  params: { path: { id: "00000000-0000-4000-8000-000000000000" } },
});

console.log(JSON.stringify({
  sent,
  distinct: sent.id !== again.id,
  replayed: again.id === replay.id,
  error: { code: invalid.code, status: invalid.status, reason: invalid.reason, issues: invalid.issues },
  rest: { status: status.response.status, id: status.data?.id, missing: missing.error },
}));
process.exit(0);
// No @types/node in a project that has only the SDK.
declare const process: { argv: string[]; exit(code: number): never };
`;

describe("@pregon/sdk, packed", () => {
  it("ships built code and self-contained declarations, and nothing of the server", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    expect(stdout.trim().split("\n").sort()).toEqual([
      "package/README.md",
      "package/dist/index.d.ts",
      "package/dist/index.js",
      "package/dist/index.js.map",
      "package/dist/rest.d.ts",
      "package/dist/rest.js",
      "package/dist/rest.js.map",
      "package/package.json",
    ]);
    const installed = join(work, "app/node_modules/@pregon/sdk");
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8"));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@trpc/client", "openapi-fetch"]);
    expect(Object.keys(manifest.peerDependencies)).toEqual(["@trpc/server"]);

    for (const file of ["index.js", "index.d.ts", "rest.js", "rest.d.ts"]) {
      const text = await readFile(join(installed, "dist", file), "utf8");
      const imports = [...text.matchAll(/from ["']([^"']+)["']/g)].map((match) => match[1]);
      for (const specifier of imports) {
        expect(specifier).toMatch(/^(@trpc\/client|@trpc\/server(\/[a-z-]+)?|openapi-fetch)$/);
      }
      expect(text).not.toMatch(/drizzle|@aws-sdk|@pregon\/(core|api)|"postgres"|"hono"/);
    }
  });

  it("type-checks a program that uses it, with the router's types", async () => {
    expect(await compile(program)).toBe("");
  });

  it("fails to type-check a misspelt field, naming it", async () => {
    const errors = await compile(program.replace("subject:", "subjet:"));
    expect(errors).toMatch(/main\.ts\(\d+,\d+\): error TS\d+: .*'subjet'/);
    expect(errors.trim().split("\n")).toHaveLength(1);
  });

  it("runs against the local stack", async () => {
    expect(await compile(program)).toBe("");
    const { secret } = await projectWithKey(["admin"]);
    const { stdout } = await run("node", ["out/main.js", url, secret], { cwd: join(work, "app") });
    const result = JSON.parse(stdout);
    expect(result.sent).toMatchObject({ channel: "email", status: "queued" });
    expect(result.sent.recipients).toMatchObject({ accepted: 1 });
    expect(result.distinct).toBe(true);
    expect(result.replayed).toBe(true);
    expect(result.error).toMatchObject({
      code: "BAD_REQUEST",
      status: 400,
      reason: "invalid_input",
    });
    expect(result.error.issues[0].path.slice(0, 2)).toEqual(["to", 0]);
    expect(result.rest).toMatchObject({ status: 200, id: result.sent.id });
    expect(result.rest.missing).toMatchObject({ code: "NOT_FOUND", reason: "not_found" });
  });

  it("publishes (npm publish --dry-run of the tarball)", async () => {
    const { stderr } = await run("npm", ["publish", "--dry-run", tarball], { cwd: work });
    expect(stderr).toMatch(/Publishing to .* \(dry-run\)/);
  });

  it("runs the README's TypeScript examples as written", async () => {
    const readme = await readFile(join(root, "README.md"), "utf8");
    const sections = readme.slice(readme.indexOf("## Use from TypeScript"));
    const examples = [...sections.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const printed: string[] = [];
    for (const example of examples.slice(0, 2)) {
      const source = `declare const process: { env: Record<string, string | undefined> };\n${example}`;
      expect(await compile(source.replaceAll("http://localhost:3000", url))).toBe("");
      const { secret } = await projectWithKey(["admin"]);
      const { stdout } = await run("node", ["out/main.js"], {
        cwd: join(work, "app"),
        env: { ...process.env, PREGON_API_KEY: secret },
      });
      printed.push(stdout);
    }
    // The tRPC example's wrong code (5 checks left: no sender runs here, so no code exists yet
    // and the guess is not counted), then the REST example's accepted send.
    expect(printed[0]).toBe("invalid 5\n");
    expect(printed[1]).toMatch(/^[0-9a-f-]{36} 1\n$/);
  });
});
