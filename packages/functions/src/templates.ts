import type * as Template from "@pregon/core/template";
import { linkedTemplatesBucket } from "./config";
import { onFirstUse } from "./lazy";

/**
 * The linked templates bucket as core's template store (the functions that render stored
 * templates). The S3 client, about a tenth of such a bundle, is imported when the store is first
 * used, not at the cold start: most requests and messages never read a stored template, and the
 * first that does pays for loading it (docs/deploy.md, "Bundles").
 */
export function s3Templates(): Template.Store {
  const bucket = linkedTemplatesBucket();
  const open = onFirstUse(() =>
    import("./templates-s3").then(({ s3Templates }) => s3Templates(bucket)),
  );
  return {
    put: async (objectKey, body) => (await open()).put(objectKey, body),
    get: async (objectKey) => (await open()).get(objectKey),
  };
}
