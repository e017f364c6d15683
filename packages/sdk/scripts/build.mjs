// Builds what `npm pack` ships: dist/{index,rest}.js (ESM, dependencies left as imports) and one
// self-contained .d.ts per entry, the router's types included, the server's sources not.
import { rm } from "node:fs/promises";
import { build } from "esbuild";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const entries = { index: "src/index.ts", rest: "src/rest.ts" };

await rm("dist", { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  packages: "external",
  sourcemap: true,
});

// One bundle per entry: what both entries share (the credentials) is inlined in each, rather than
// split into a chunk of its own.
for (const [name, input] of Object.entries(entries)) {
  const bundle = await rollup({
    input: { [name]: input },
    // The workspace packages are inlined; everything else stays an import the consumer resolves.
    plugins: [dts({ includeExternal: ["@pregon/api", "@pregon/core"], tsconfig: "tsconfig.json" })],
  });
  await bundle.write({ dir: "dist", format: "es", entryFileNames: "[name].d.ts" });
  await bundle.close();
}
