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
// Written for SST 4.17's plugin bridge too: it tests a callback's `filter` against nothing useful
// and ignores `namespace`, so every callback takes all paths and checks them itself.
import { dirname } from "node:path";

const namespace = "pregon-left-out";
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
const packageOf = (path) => /^((?:@[^/]+\/)?[^/.][^/]*)/.exec(path)?.[1];
const zodLocales = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;

export default [
  {
    name: "pregon-left-out",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const name = packageOf(args.path);
        return name && name in leftOut ? { path: args.path, namespace } : undefined;
      });
      build.onLoad({ filter: /.*/ }, (args) => {
        if (args.namespace === namespace) {
          return { loader: "js", contents: leftOut[packageOf(args.path)](args.path) };
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
