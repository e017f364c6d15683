import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { docsAssets } from "@pregon/api/docs";
import { handle } from "hono/aws-lambda";
import { tracedHandler } from "./tracing";

// The zip carries the script beside the bundle (infra/settings.ts `copyFiles`). `sst dev` copies
// no files: there the function runs beside the repository's node_modules, where the default is.
const copied = fileURLToPath(new URL("docs-assets/standalone.js", import.meta.url));

/** `GET /docs/assets/…` (API Gateway HTTP API, payload v2): the API reference's script. */
export const handler = tracedHandler(handle(docsAssets(existsSync(copied) ? copied : undefined)));
