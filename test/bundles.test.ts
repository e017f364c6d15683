// The Lambda bundles and zips as `sst deploy` builds them (scripts/bundle.ts): their sizes, what
// they leave out, that no zip carries a source map, and that the http bundle loads and answers with
// the AWS SDK resolved from outside it (as the nodejs22.x runtime provides it) and the SST links
// given as SST does (SST_RESOURCE_*).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docsScriptPath, scalarScriptFile } from "@pregon/api/docs";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { functions, httpBundleLimitBytes, httpZipLimitBytes, runtime } from "../infra/settings";
import {
  type Bundle,
  bundleEntry,
  lambdaEntries,
  lambdaImportEnv,
  packagesIn,
  root,
  sstEsbuildOptions,
  unwanted,
  unzip,
} from "../scripts/bundle";

// Inside the repo, so the bundles' external @aws-sdk/* imports resolve from node_modules.
const outdir = mkdtempSync(join(root, "node_modules", ".cache-pregon-bundles-"));
const bundles = new Map<string, Bundle>();

beforeAll(async () => {
  for (const entry of lambdaEntries()) {
    bundles.set(entry, await bundleEntry(entry, join(outdir, entry.replace(/\W/g, "_"))));
  }
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("Lambda bundles", () => {
  it("the http and OTP bundles stay under 1 MB, and their zips under 400 KiB", () => {
    for (const entry of ["packages/functions/src/http.ts", "packages/functions/src/otp.ts"]) {
      const bundle = bundles.get(entry)!;
      expect(bundle.bytes, entry).toBeLessThan(httpBundleLimitBytes);
      expect(bundle.zip.bytes, entry).toBeLessThan(httpZipLimitBytes);
    }
  });

  it("no zip carries a source map: each is written beside the bundle, for SST to upload apart", () => {
    for (const [entry, bundle] of bundles) {
      expect(bundle.mapBytes, entry).toBeGreaterThan(0);
      expect(
        bundle.zip.entries.filter((name) => name.endsWith(".map")),
        entry,
      ).toEqual([]);
      expect(bundle.zip.entries, entry).toContain("bundle.mjs");
    }
  });

  it("the migrator's zip carries every migration, under migrations/", () => {
    const migrations = join(root, functions.migrator.copyFiles[0].from);
    const expected = readdirSync(migrations, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join("migrations", e.parentPath.slice(migrations.length), e.name));
    const zip = bundles.get("packages/functions/src/migrate.ts")!.zip;
    expect(expected.length).toBeGreaterThan(1);
    expect(zip.entries.filter((name) => name.startsWith("migrations/")).sort()).toEqual(
      expected.sort(),
    );
  });

  it("the docs assets function, unzipped as Lambda does, answers API Gateway with the reference's script", async () => {
    const zip = bundles.get("packages/functions/src/docs-assets.ts")!.zip;
    // SST 4.17 zips a single copied file twice (scripts/bundle.ts `sstZip`).
    expect(zip.entries.sort()).toEqual([
      "bundle.mjs",
      "docs-assets/standalone.js",
      "docs-assets/standalone.js",
    ]);
    // Outside the repo: no node_modules to fall back on, as on Lambda.
    const task = mkdtempSync(join(tmpdir(), "pregon-docs-assets-"));
    onTestFinished(() => rmSync(task, { recursive: true, force: true }));
    await unzip(zip.file, task);
    const script = `
      const { createHash } = await import("node:crypto");
      const { gunzipSync } = await import("node:zlib");
      const { handler } = await import(${JSON.stringify(join(task, "bundle.mjs"))});
      const event = (path, headers) => ({
        version: "2.0", routeKey: "GET /docs/assets/{proxy+}", rawPath: path, rawQueryString: "",
        headers: { host: "api.example", ...headers },
        requestContext: { http: { method: "GET", path, sourceIp: "203.0.113.1" }, requestId: "r", stage: "$default" },
        isBase64Encoded: false,
      });
      const out = [];
      for (const encoding of ["gzip, deflate, br", undefined]) {
        const headers = encoding ? { "accept-encoding": encoding } : {};
        const response = await handler(event(${JSON.stringify(docsScriptPath)}, headers), {});
        const body = response.isBase64Encoded ? Buffer.from(response.body, "base64") : Buffer.from(response.body);
        const plain = response.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
        out.push({
          status: response.statusCode,
          encoding: response.headers["content-encoding"] ?? null,
          cache: response.headers["cache-control"],
          sha256: createHash("sha256").update(plain).digest("hex"),
          payloadBytes: JSON.stringify(response).length,
        });
      }
      const missing = await handler(event("/docs/assets/other.js", {}), {});
      out.push({ status: missing.statusCode });
      console.log(JSON.stringify(out));
      process.exit(0);`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
      env: lambdaImportEnv(),
    });
    expect(result.status, result.stderr).toBe(0);
    const [zipped, plain, missing] = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    const sha256 = createHash("sha256").update(readFileSync(scalarScriptFile())).digest("hex");
    const cache = "public, max-age=31536000, immutable";
    expect(zipped).toMatchObject({ status: 200, encoding: "gzip", cache, sha256 });
    expect(plain).toMatchObject({ status: 200, encoding: null, cache, sha256 });
    // Lambda refuses a synchronous response over 6 MB: even the plain script stays under it.
    for (const { payloadBytes } of [zipped, plain]) {
      expect(payloadBytes).toBeLessThan(6 * 1024 * 1024);
    }
    expect(zipped.payloadBytes).toBeLessThan(plain.payloadBytes / 2);
    expect(missing).toEqual({ status: 404 });
  });

  it("targets what SST targets for nodejs22.x, ES2023, not esnext", () => {
    expect(runtime.runtime).toBe("nodejs22.x");
    expect(sstEsbuildOptions(runtime).target).toBe("es2023");
  });

  it("no bundle carries the AWS SDK or a left-out package", () => {
    for (const [entry, bundle] of bundles) {
      const names = packagesIn(bundle).map(([name]) => name);
      expect(
        names.filter((n) => n.startsWith("@aws-sdk/")),
        entry,
      ).toEqual([]);
      expect(
        names.filter((n) => unwanted.includes(n)),
        entry,
      ).toEqual([]);
      expect(bundle.bytes, entry).toBeLessThan(httpBundleLimitBytes);
    }
  });

  it("the http bundle loads and answers /health, /openapi.json and a REST call", () => {
    const script = `
      const { handler } = await import(${JSON.stringify(bundles.get("packages/functions/src/http.ts")!.file)});
      const event = (method, path, body) => ({
        version: "2.0", routeKey: "$default", rawPath: path, rawQueryString: "",
        headers: { host: "api.example", "content-type": "application/json" },
        requestContext: { http: { method, path, sourceIp: "203.0.113.1" }, requestId: "r", stage: "$default" },
        body, isBase64Encoded: false,
      });
      const out = [];
      for (const [method, path, body] of [["GET", "/health"], ["GET", "/openapi.json"], ["POST", "/v1/otp", "{}"]]) {
        const response = await handler(event(method, path, body), {});
        out.push([path, response.statusCode, String(response.body).slice(0, 40)]);
      }
      console.log(JSON.stringify(out));
      process.exit(0);`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
      // The database is never reached: no route below needs it.
      env: lambdaImportEnv(),
    });
    expect(result.status, result.stderr).toBe(0);
    const answers = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as [string, number][];
    expect(answers.map(([path, status]) => [path, status])).toEqual([
      ["/health", 200],
      ["/openapi.json", 200],
      // No API key: refused before any database access, after the body went through the adapter.
      ["/v1/otp", 401],
    ]);
  });
});
