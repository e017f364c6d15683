import packageJson from "../package.json" with { type: "json" };

/**
 * Where the reference page (`/docs`) loads Scalar's renderer from, never a third-party CDN, so the
 * page works offline: locally, the local server; on AWS, the stage's own distribution. The path
 * names the pinned version, so a browser may keep the file for a year. Apart from the page itself,
 * so infra/ can name the object without importing the app.
 */
export const docsScriptPath = `/docs/assets/scalar-api-reference-${packageJson.dependencies["@scalar/api-reference"]}.js`;

/** How the script is served, by the local server and from the stage's bucket alike. */
export const docsScriptHeaders = {
  "content-type": "text/javascript; charset=utf-8",
  "cache-control": "public, max-age=31536000, immutable",
} as const;
