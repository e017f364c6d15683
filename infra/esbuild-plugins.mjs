// esbuild plugins for every Lambda bundle (`nodejs.plugins` in infra/settings.ts; SST loads this
// file in a node process beside its esbuild, and scripts/bundle.ts passes the same list). They
// leave out code the functions never run, to keep the http bundle under 1 MB (cold start):
//
// - co-body (and with it raw-body and iconv-lite, about 0.7 MB unminified): trpc-to-openapi's fetch
//   adapter goes through its node adapter, which imports co-body but never calls it, as the fetch
//   adapter hands over the body already parsed;
// - yaml: openapi3-ts imports it for getSpecAsYaml(), which nothing calls (/openapi.json is JSON);
// - zod's error messages in every language but English (zod loads English itself);
// - bowser: the AWS SDK's core imports it (with `import()`, so esbuild keeps it as a chunk in every
//   zip) only to read a browser's user agent, which Node never has.
//
// A left-out package becomes a module whose functions throw, naming this file.
//
// And one is narrowed: the SDK's default credential chain (@aws-sdk/credential-provider-node)
// becomes its first link, the environment's credentials. Lambda sets the function role's there,
// and `sst dev` hands its local functions the deployed function's environment, credentials
// included. The other links (profile files, SSO, a credential process, web identity, container and
// instance metadata) are chunks loaded with `import()` that no function reaches, but with the STS,
// SSO and sign-in clients they bring they put about 130 KB of JavaScript (50 KiB zipped) in every
// zip.
//
// Written for SST 4.17's plugin bridge too: it tests a callback's `filter` against nothing useful
// and ignores `namespace`, so every callback takes all paths and checks them itself.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const namespace = "pregon-left-out";
const here = dirname(fileURLToPath(import.meta.url));
const thrower = (name) =>
  `function () { throw new Error(${JSON.stringify(`${name} is left out of Lambda bundles (infra/esbuild-plugins.mjs)`)}); }`;

/** Package -> what stands for it. */
const leftOut = {
  "co-body": (name) => `export default ${thrower(name)};`,
  "raw-body": (name) => `export default ${thrower(name)};`,
  "iconv-lite": (name) => `export default {}; export const decode = ${thrower(name)};`,
  bowser: (name) => `export const parse = ${thrower(name)}; export default { parse };`,
  yaml: (name) =>
    `export const stringify = ${thrower(name)}; export const parse = ${thrower(name)};`,
};
/** Package -> what stands for it, built from the real packages it imports. */
const narrowed = {
  "@aws-sdk/credential-provider-node":
    'export { fromEnv as defaultProvider } from "@aws-sdk/credential-provider-env";',
};
const packageOf = (path) => /^((?:@[^/]+\/)?[^/.][^/]*)/.exec(path)?.[1];
const zodLocales = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;

export default [
  {
    name: "pregon-left-out",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const name = packageOf(args.path);
        return name && (name in leftOut || name in narrowed)
          ? { path: args.path, namespace }
          : undefined;
      });
      build.onLoad({ filter: /.*/ }, (args) => {
        if (args.namespace === namespace) {
          const name = packageOf(args.path);
          if (name in narrowed) {
            // Its imports resolve from this folder, up to the repository's node_modules.
            return { loader: "js", contents: narrowed[name], resolveDir: here };
          }
          return { loader: "js", contents: leftOut[name](args.path) };
        }
        if (zodLocales.test(args.path)) {
          return {
            loader: "js",
            contents: 'export { default as en } from "./en.js";',
            resolveDir: dirname(args.path),
          };
        }
        return undefined;
      });
    },
  },
];
