import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { docsScriptHeaders, docsScriptPath } from "./docs-script";
import type { ErrorBody } from "./error";

export { docsScriptHeaders, docsScriptPath };

/**
 * The reference page (`GET /docs`): the OpenAPI document rendered in the browser by the script at
 * `docsScriptPath` on `scriptOrigin` (an https origin, no path), or on the page's own origin.
 */
export const docsPage = (scriptOrigin = "") =>
  Scalar({
    url: "/openapi.json",
    pageTitle: "Pregón API",
    cdn: `${scriptOrigin}${docsScriptPath}`,
    // The page asks nothing of Scalar's servers: not its fonts (the system's serve), not its usage
    // reports, not its AI chat (which would send them the document).
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
  });

/** The renderer's single-file browser build, in the @scalar/api-reference package. */
export function scalarScriptFile(): string {
  const main = createRequire(import.meta.url).resolve("@scalar/api-reference");
  return join(dirname(main), "browser", "standalone.js");
}

/**
 * Serves the reference's script (about 4.8 MB, 1.4 MB gzipped) at `docsScriptPath`, from `file`:
 * the local server's. On AWS the stage's CloudFront distribution serves it from S3 instead, so no
 * function's zip carries it. Read and compressed on the first request, then kept.
 */
export function docsAssets(file: string = scalarScriptFile()) {
  let script: { plain: Buffer; gzip: Buffer } | undefined;
  const app = new Hono();
  app.get(docsScriptPath, (c) => {
    if (!script) {
      const plain = readFileSync(file);
      script = { plain, gzip: gzipSync(plain) };
    }
    const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    return c.body(new Uint8Array(gzip ? script.gzip : script.plain), 200, {
      ...docsScriptHeaders,
      vary: "accept-encoding",
      ...(gzip && { "content-encoding": "gzip" }),
    });
  });
  app.notFound((c) =>
    c.json(
      { code: "NOT_FOUND", reason: "not_found", message: "No such asset" } satisfies ErrorBody,
      404,
    ),
  );
  return app;
}
