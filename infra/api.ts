import { topics } from "./messaging";
import { templates } from "./storage";

/** Until the RDS stack lands (infra/database.ts), the database is an external Postgres URL. */
export const databaseUrl = new sst.Secret("DatabaseUrl");

export const api = new sst.aws.ApiGatewayV2("Api");

// One catch-all route: the Hono app in the function does its own routing
// (/trpc, /v1, /openapi.json, /docs, /health).
api.route("$default", {
  handler: "packages/functions/src/http.handler",
  // Node 20 reached end of support on Lambda in 2026; the code runs on 20 and later.
  runtime: "nodejs22.x",
  memory: "512 MB",
  link: [templates, ...topics],
  environment: {
    DATABASE_URL: databaseUrl.value,
    // trpc-to-openapi regenerates the whole OpenAPI document on every REST request otherwise.
    NODE_ENV: "production",
  },
  nodejs: {
    format: "esm",
    // No `banner` with the createRequire shim (DESIGN.md §6): for ESM, SST 4.17's own esbuild step
    // already prepends `const require = topLevelCreateRequire(import.meta.url)` (plus __filename
    // and __dirname) and puts `nodejs.banner` after it, so a second `const require` would make the
    // bundle a SyntaxError at load.
  },
});
