// Bundles and zips a Lambda entry the way `sst deploy` does, without AWS: the esbuild options of
// SST 4.17's Node runtime (pkg/runtime/node/build.go in the sst binary) with this app's `nodejs`
// settings (infra/settings.ts), the function's links sealed into `resource.enc` beside the bundle
// (pkg/runtime/runtime.go), then the zip SST's Function component makes of the result
// (createZipAsset in .sst/platform/src/components/aws/function.ts). test/bundles.test.ts measures
// the zips and runs them as Lambda would; bench/coldstart.ts loads the bundles to time cold starts;
// scripts/plan-infra.ts gives the same layout to SST's own zip step.
//
//   npx tsx scripts/bundle.ts [entry ...]    bundle and print sizes (every Lambda entry by default)
import { createCipheriv, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import archiver from "archiver";
import { build, type Metafile, type Plugin } from "esbuild";
import yauzl from "yauzl";
import { type FunctionSetting, functions, runtime } from "../infra/settings";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** esbuild's target per Lambda runtime, as SST 4.17 maps it when `nodejs.esbuild.target` is unset. */
export const sstTargets: Record<string, string> = {
  "nodejs24.x": "es2024",
  "nodejs22.x": "es2023",
  "nodejs20.x": "es2023",
  "nodejs18.x": "es2022",
};

/** The `nodejs` arguments of a function, as far as SST's build reads them here. */
interface NodeArgs {
  format?: string;
  minify?: boolean;
  sourcemap?: boolean;
  splitting?: boolean;
  plugins?: string;
  esbuild?: { external?: readonly string[]; target?: string; sourcemap?: unknown };
}

/**
 * What SST 4.17 does with a function's source map on deploy. esbuild always writes a linked map
 * (`nodejs.sourcemap: false` too: build.go sets "linked" for it); SST lists it as a map to keep
 * out of the zip, and uploads it to its bootstrap bucket beside the code, only when
 * `nodejs.sourcemap` is unset. `nodejs.esbuild.sourcemap` is not emulated.
 */
export function sstSourcemaps(nodejs: NodeArgs) {
  if (nodejs.esbuild?.sourcemap !== undefined) {
    throw new Error("nodejs.esbuild.sourcemap is not emulated by scripts/bundle.ts");
  }
  return { written: true, keptOutOfZip: nodejs.sourcemap === undefined };
}

/**
 * What SST 4.17 passes to esbuild for an ESM function on deploy (not `sst dev`), `out` the build's
 * folder. Without `nodejs.splitting`, one file, `out/bundle.mjs`; with it, esbuild's code
 * splitting into `out`: the entry named `bundle.mjs`, each dynamically imported module and each
 * part shared between them a chunk of esbuild's default name (`chunk-<hash>.mjs`, a dynamically
 * imported module's own name for its own), every output with the same banner.
 */
export function sstEsbuildOptions(fn: { runtime: string; nodejs: NodeArgs }, out = "out") {
  if (fn.nodejs.format !== "esm") throw new Error("only ESM functions are emulated");
  const target = fn.nodejs.esbuild?.target ?? sstTargets[fn.runtime];
  if (!target) throw new Error(`no esbuild target for ${fn.runtime}`);
  return {
    platform: "node",
    format: "esm",
    target,
    bundle: true,
    keepNames: true,
    mainFields: ["module", "main"],
    // SST marks these two external, plus `nodejs.esbuild.external`.
    external: ["sharp", "pg-native", ...(fn.nodejs.esbuild?.external ?? [])],
    minify: fn.nodejs.minify === true,
    sourcemap: sstSourcemaps(fn.nodejs).written ? "linked" : false,
    ...(fn.nodejs.splitting
      ? {
          splitting: true,
          outdir: out,
          entryNames: "bundle",
          outExtension: { ".js": ".mjs" },
        }
      : { outfile: join(out, "bundle.mjs") }),
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from 'module';`,
        "const require = topLevelCreateRequire(import.meta.url);",
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
        "const __filename = topLevelFileUrlToPath(import.meta.url)",
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
        "",
      ].join("\n"),
    },
  } as const;
}

/**
 * Packages no bundle may contain: infra/esbuild-plugins.mjs stubs the first five (never run) and
 * narrows the SDK's credential chain to the environment's link, which leaves out the rest.
 */
export const unwanted = [
  "co-body",
  "raw-body",
  "iconv-lite",
  "yaml",
  "bowser",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
  "@aws-sdk/credential-provider-login",
  "@smithy/credential-provider-imds",
  "@aws-sdk/nested-clients",
];

async function plugins(): Promise<Plugin[]> {
  const file = join(root, runtime.nodejs.plugins);
  return (await import(pathToFileURL(file).href)).default;
}

/** The files of `dir`, recursively, relative to it. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * The zip SST 4.17 uploads as a function's code: every file of the build output but the source
 * maps its build listed, then the `copyFiles` (files, or folders whole), sorted by name, dated 1970
 * (so the zip's hash changes only with its content), as function.ts's createZipAsset writes it
 * with archiver.
 */
export async function sstZip(
  out: string,
  sourcemaps: readonly string[],
  copyFiles: FunctionSetting["copyFiles"],
  zipPath: string,
) {
  const ignored = new Set(sourcemaps.map((map) => relative(out, map)));
  const files = (await filesIn(out))
    .filter((file) => !ignored.has(file))
    .map((file) => ({ from: join(out, file), to: file }));
  for (const copy of copyFiles ?? []) {
    const from = join(root, copy.from);
    if ((await stat(from)).isFile()) {
      // Twice, as SST 4.17 zips a copied file: once as a file, once more as what its glob("**")
      // of the file finds ("."). Unpacking writes the same bytes over the first.
      files.push({ from, to: copy.to }, { from, to: copy.to });
      continue;
    }
    for (const file of await filesIn(from)) {
      files.push({ from: join(from, file), to: join(copy.to, file) });
    }
  }
  files.sort((a, b) => a.to.localeCompare(b.to));
  await mkdir(dirname(zipPath), { recursive: true });
  await new Promise<void>((done, fail) => {
    const stream = createWriteStream(zipPath);
    const archive = archiver("zip", { statConcurrency: 1 });
    archive.on("warning", fail);
    archive.on("error", fail);
    stream.once("close", () => done());
    archive.pipe(stream);
    for (const file of files) archive.file(file.from, { name: file.to, date: new Date(0) });
    void archive.finalize();
  });
  return { file: zipPath, bytes: (await stat(zipPath)).size, entries: await zipEntries(zipPath) };
}

/** The names in a zip file, read back from it. */
export async function zipEntries(file: string): Promise<string[]> {
  // autoClose: the file is closed once the last entry has been read.
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true });
  const names: string[] = [];
  for await (const entry of zip.eachEntry()) names.push(entry.fileName);
  return names;
}

/** Unpacks a zip into `dir`, as Lambda unpacks a function's code into /var/task. */
export async function unzip(file: string, dir: string) {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true });
  for await (const entry of zip.eachEntry()) {
    const to = join(dir, entry.fileName);
    await mkdir(dirname(to), { recursive: true });
    await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(to));
  }
}

/**
 * What SST's build writes beside every bundle, links or none (pkg/runtime/runtime.go): the
 * function's links as JSON, sealed with AES-256-GCM under the app's key and a zero nonce, the tag
 * last. The sst package's `Resource` opens it with SST_KEY (the key, base64) from SST_KEY_FILE,
 * which SST sets to "resource.enc", relative to the function's working directory (its code's).
 */
export async function writeLinks(out: string, links: Record<string, unknown>, key: Buffer) {
  const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12));
  const sealed = [cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()];
  await writeFile(join(out, "resource.enc"), Buffer.concat(sealed));
}

export interface Bundle {
  entry: string;
  /** The bundle.mjs SST would build (its handler's module). */
  file: string;
  /** The JavaScript its import loads: bundle.mjs and the chunks it imports, directly or not. */
  bytes: number;
  /** The chunks only a dynamic `import()` loads, when the code asks for them (none without splitting). */
  lazyBytes: number;
  /**
   * Every JavaScript file of the build, relative to bundle.mjs's folder, whether its import loads
   * it, and for a dynamically imported module's chunk, that module (from the repo root).
   */
  outputs: { file: string; bytes: number; atImport: boolean; entryPoint?: string }[];
  /** Its source maps, beside it (in the zip or not: `zip.entries` says). */
  mapBytes: number;
  /** The zip SST would upload: its size and the names in it. */
  zip: { file: string; bytes: number; entries: string[] };
  metafile: Metafile;
  /** The key its links are sealed with (SST_KEY, base64). */
  key: string;
}

/** The outputs of a build (metafile paths, from the repo root) that importing `main` loads. */
function loadedAtImport(metafile: Metafile, main: string): Set<string> {
  const loaded = new Set<string>();
  const visit = (path: string) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const i of metafile.outputs[path]?.imports ?? []) {
      if (!i.external && i.kind === "import-statement") visit(i.path);
    }
  };
  visit(main);
  return loaded;
}

/**
 * Bundles `entry` (a path from the repo root, e.g. "packages/functions/src/http.ts") into `outdir`
 * (a fresh temp folder by default) with SST's options and this app's `runtime`, seals `links` (none
 * by default) beside it under `key` (a fresh one by default), and zips it as SST does, with the
 * `copyFiles` of the function it belongs to.
 */
export async function bundleEntry(
  entry: string,
  outdir?: string,
  options: { links?: Record<string, unknown>; key?: Buffer } = {},
): Promise<Bundle> {
  const base = outdir ?? (await mkdtemp(join(tmpdir(), "pregon-bundle-")));
  const out = join(base, "out");
  const file = join(out, "bundle.mjs");
  const esbuildOptions = sstEsbuildOptions(runtime, out);
  const result = await build({
    ...esbuildOptions,
    mainFields: [...esbuildOptions.mainFields],
    external: [...esbuildOptions.external],
    absWorkingDir: root,
    entryPoints: [entry],
    metafile: true,
    logLevel: "silent",
    plugins: await plugins(),
  });
  const metafile = result.metafile!;
  const key = options.key ?? randomBytes(32);
  await writeLinks(out, options.links ?? {}, key);
  // SST lists the maps among esbuild's output files (one per JavaScript file).
  const maps = (await filesIn(out)).filter((f) => f.endsWith(".map")).map((f) => join(out, f));
  const mapBytes = (await Promise.all(maps.map(async (map) => (await stat(map)).size))).reduce(
    (sum, size) => sum + size,
    0,
  );
  const sourcemaps = sstSourcemaps(runtime.nodejs).keptOutOfZip ? maps : [];
  const setting = Object.values(functions as Record<string, FunctionSetting>).find(
    (f) => f.handler.replace(/\.[^./]+$/, ".ts") === entry,
  );
  const zip = await sstZip(out, sourcemaps, setting?.copyFiles, join(base, "code.zip"));
  const atImport = loadedAtImport(metafile, relative(root, file));
  // The metafile lists the maps among the outputs too.
  const scripts = Object.entries(metafile.outputs).filter(([path]) => !path.endsWith(".map"));
  const outputs = scripts.map(([path, output]) => ({
    file: relative(out, resolve(root, path)),
    bytes: output.bytes,
    atImport: atImport.has(path),
    ...(output.entryPoint && { entryPoint: output.entryPoint }),
  }));
  const sum = (loaded: boolean) =>
    outputs.filter((o) => o.atImport === loaded).reduce((total, o) => total + o.bytes, 0);
  return {
    entry,
    file,
    bytes: sum(true),
    lazyBytes: sum(false),
    outputs,
    mapBytes,
    zip,
    metafile,
    key: key.toString("base64"),
  };
}

const link = (value: unknown) => JSON.stringify(value);
const topic = (name: string) => link({ arn: `arn:aws:sns:us-east-1:111111111111:${name}` });

/** A function's entry file: "packages/functions/src/http.handler" -> ".../http.ts". */
const entryOf = ({ handler }: FunctionSetting) => handler.replace(/\.[^./]+$/, ".ts");

const database = (username: string) =>
  link({ host: "127.0.0.1", port: 1, username, password: username, database: "pregon" });

/**
 * What a bundle finds in its environment on AWS when it is imported: the runtime's settings and
 * its SST links (`SST_RESOURCE_*`), pointing nowhere (nothing is reached at import). The owner's
 * link only where infra/settings.ts links it (the Migrator's entry). Used to load the bundles here
 * (test/bundles.test.ts, bench/coldstart.ts).
 */
export const lambdaImportEnv = (entry?: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  NODE_ENV: "production",
  // Set, so the email sender does not ask SES for its quota at import.
  PREGON_SES_MAX_SEND_RATE: "14",
  // infra/senders.ts gives the email sender the API's URL, where its unsubscribe links point.
  PREGON_PUBLIC_URL: "https://api.pregon.test",
  SST_RESOURCE_AppDatabase: database("pregon_app"),
  ...(Object.values(functions).some(
    (f: FunctionSetting) => f.links.includes("Database") && entryOf(f) === entry,
  ) && { SST_RESOURCE_Database: database("postgres") }),
  SST_RESOURCE_OtpPepper: link({ value: "p".repeat(40) }),
  SST_RESOURCE_Templates: link({ name: "templates" }),
  SST_RESOURCE_EmailTopic: topic("email"),
  SST_RESOURCE_SmsTopic: topic("sms"),
  SST_RESOURCE_PushTopic: topic("push"),
  SST_RESOURCE_EventsTopic: topic("events"),
  SST_RESOURCE_WebhooksTopic: topic("webhooks"),
  SST_RESOURCE_WebhooksQueue: link({
    url: "https://sqs.us-east-1.amazonaws.com/111111111111/webhooks",
  }),
});

/** Every Lambda entry of infra/settings.ts. */
export const lambdaEntries = () => [...new Set(Object.values(functions).map(entryOf))];

/**
 * The packages (node_modules names) in a bundle's JavaScript, largest first, with their bytes in
 * it: in every file of the build (`"zip"`), or only in what its import loads (`"import"`).
 */
export function packagesIn(bundle: Bundle, where: "zip" | "import" = "zip"): [string, number][] {
  const sizes = new Map<string, number>();
  const out = dirname(bundle.file);
  for (const [path, output] of Object.entries(bundle.metafile.outputs)) {
    const file = relative(out, resolve(root, path));
    if (where === "import" && !bundle.outputs.find((o) => o.file === file)?.atImport) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match?.[1] ?? "(workspace)";
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

/** Writes what SST's build leaves for `sst deploy` to zip, without bundling (scripts/plan-infra.ts). */
export async function stubBuild(
  out: string,
  nodejs: NodeArgs,
  links: Record<string, unknown>,
  encryptionKey: string,
) {
  await mkdir(out, { recursive: true });
  await writeLinks(out, links, Buffer.from(encryptionKey, "base64"));
  const file = join(out, "bundle.mjs");
  const { written, keptOutOfZip } = sstSourcemaps(nodejs);
  await writeFile(file, `export const handler = () => {};\n//# sourceMappingURL=bundle.mjs.map\n`);
  if (written) await writeFile(`${file}.map`, "{}");
  return { handler: "bundle.handler", sourcemaps: written && keptOutOfZip ? [`${file}.map`] : [] };
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
    const maps = bundle.zip.entries.some((e) => e.endsWith(".map")) ? "map inside" : "map beside";
    console.log(
      `${entry}: ${kb(bundle.bytes)} at import, ${kb(bundle.lazyBytes)} in chunks loaded on demand (${kb(bundle.mapBytes)} of maps); zip ${kb(bundle.zip.bytes)}, ${maps}; ${top.join(", ")}`,
    );
  }
}
