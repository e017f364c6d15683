// Bundles a Lambda entry the way `sst deploy` does, without AWS: the esbuild options of SST 4.17's
// Node runtime (pkg/runtime/node/build.go in the sst binary) with this app's `nodejs` settings
// (infra/settings.ts). test/bundles.test.ts measures the results; issue 11's benchmarks load them
// to time cold starts.
//
//   npx tsx scripts/bundle.ts [entry ...]    bundle and print sizes (every Lambda entry by default)
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";
import { functions, runtime } from "../infra/settings";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** What SST 4.17 always passes to esbuild for an ESM function (deploy, not `sst dev`). */
const sstOptions = {
  platform: "node",
  format: "esm",
  target: "esnext",
  bundle: true,
  keepNames: true,
  mainFields: ["module", "main"],
  // SST marks these two external, plus `nodejs.esbuild.external` (the only esbuild option it reads
  // from there besides `target`).
  external: ["sharp", "pg-native"],
  banner: {
    js: [
      `import { createRequire as topLevelCreateRequire } from 'module';`,
      "const require = topLevelCreateRequire(import.meta.url);",
      `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
      "const __filename = topLevelFileUrlToPath(import.meta.url)",
      `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
    ].join("\n"),
  },
} as const;

/** Packages no bundle may contain (infra/esbuild-plugins.mjs stubs them: DESIGN.md §6). */
export const unwanted = ["co-body", "raw-body", "iconv-lite", "yaml"];

async function plugins(): Promise<Plugin[]> {
  const file = join(root, runtime.nodejs.plugins);
  return (await import(pathToFileURL(file).href)).default;
}

export interface Bundle {
  entry: string;
  /** The .mjs SST would upload (its .map beside it). */
  file: string;
  bytes: number;
  mapBytes: number;
  metafile: Metafile;
}

/**
 * Bundles `entry` (a path from the repo root, e.g. "packages/functions/src/http.ts") into `outdir`
 * (a fresh temp folder by default) with SST's options and this app's minify/sourcemap settings.
 */
export async function bundleEntry(entry: string, outdir?: string): Promise<Bundle> {
  const out = outdir ?? (await mkdtemp(join(tmpdir(), "pregon-bundle-")));
  const file = join(
    out,
    `${basename(entry)
      .replace(/\.[cm]?[jt]s$/, "")
      .replaceAll(".", "-")}.mjs`,
  );
  const result = await build({
    ...sstOptions,
    mainFields: [...sstOptions.mainFields],
    external: [...sstOptions.external, ...runtime.nodejs.esbuild.external],
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: file,
    minify: runtime.nodejs.minify,
    sourcemap: runtime.nodejs.sourcemap ? "linked" : false,
    metafile: true,
    logLevel: "silent",
    plugins: await plugins(),
  });
  const mapBytes = runtime.nodejs.sourcemap ? (await stat(`${file}.map`)).size : 0;
  return { entry, file, bytes: (await stat(file)).size, mapBytes, metafile: result.metafile! };
}

const link = (value: unknown) => JSON.stringify(value);
const topic = (name: string) => link({ arn: `arn:aws:sns:us-east-1:111111111111:${name}` });

/**
 * What a bundle finds in its environment on AWS when it is imported: the runtime's settings and
 * its SST links (`SST_RESOURCE_*`), pointing nowhere (nothing is reached at import). Used to load
 * the bundles here (test/bundles.test.ts, bench/coldstart.ts).
 */
export const lambdaImportEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  NODE_ENV: "production",
  // Set, so the email sender does not ask SES for its quota at import.
  PREGON_SES_MAX_SEND_RATE: "14",
  SST_RESOURCE_Database: link({
    host: "127.0.0.1",
    port: 1,
    username: "postgres",
    password: "postgres",
    database: "pregon",
  }),
  SST_RESOURCE_OtpPepper: link({ value: "p".repeat(40) }),
  SST_RESOURCE_Templates: link({ name: "templates" }),
  SST_RESOURCE_EmailTopic: topic("email"),
  SST_RESOURCE_SmsTopic: topic("sms"),
  SST_RESOURCE_PushTopic: topic("push"),
  SST_RESOURCE_EventsTopic: topic("events"),
});

/** Every Lambda entry of infra/settings.ts: "packages/functions/src/http.handler" -> ".../http.ts". */
export const lambdaEntries = () => [
  ...new Set(Object.values(functions).map(({ handler }) => handler.replace(/\.[^./]+$/, ".ts"))),
];

/** The packages (node_modules names) in a bundle, largest first, with their bytes in it. */
export function packagesIn(bundle: Bundle): [string, number][] {
  const sizes = new Map<string, number>();
  const output = Object.values(bundle.metafile.outputs).find((o) => o.entryPoint);
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match?.[1] ?? "(workspace)";
    sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { existsSync } = await import("node:fs");
  const entries = process.argv.slice(2).length ? process.argv.slice(2) : lambdaEntries();
  for (const entry of entries) {
    if (!existsSync(join(root, entry))) {
      console.log(`${entry}: missing`);
      continue;
    }
    const bundle = await bundleEntry(entry);
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    const top = packagesIn(bundle)
      .slice(0, 4)
      .map(([name, bytes]) => `${name} ${kb(bytes)}`);
    console.log(`${entry}: ${kb(bundle.bytes)} (+ ${kb(bundle.mapBytes)} map); ${top.join(", ")}`);
  }
}
