// Section 3, cold start: each Lambda bundle as `sst deploy` builds it (scripts/bundle.ts), its
// size, and the time a fresh `node` process takes to import it (median of N), beside a fresh
// process importing an empty module (Node's own start).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { bundleEntry, lambdaEntries, lambdaImportEnv, root } from "../scripts/bundle";
import type { BenchConfig, Section } from "./config";
import { median, ms, num } from "./stats";

/**
 * Imports `file` (the bundle of `entry`) in a fresh process, then the chunks in `later` (loaded on
 * first use): [ms importing it, ms from process start to handler ready, ms of CPU (user + system)
 * the import took, ms importing `later` then].
 */
function coldImport(
  file: string,
  entry?: string,
  later: string[] = [],
): [number, number, number, number] {
  const script = `
    const cpu = process.cpuUsage();
    const start = performance.now();
    const module = await import(${JSON.stringify(file)});
    const end = performance.now();
    const { user, system } = process.cpuUsage(cpu);
    if (module.handler !== undefined && typeof module.handler !== "function") process.exit(3);
    for (const chunk of ${JSON.stringify(later)}) await import(chunk);
    console.log(JSON.stringify([end - start, end, (user + system) / 1000, performance.now() - end]));
    process.exit(0);`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 60_000,
    env: lambdaImportEnv(entry),
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as [number, number, number, number];
}

export interface ColdStartFigures {
  bundles: Array<{ entry: string; importMs: number; zipKiB: number }>;
}

export async function coldStart(config: BenchConfig): Promise<Section> {
  const { runs } = config.coldStart;
  const entries = config.coldStart.entries ?? lambdaEntries();
  // Inside the repo's node_modules (ignored by git); each bundle carries every package it imports.
  const outdir = mkdtempSync(join(root, "node_modules", ".cache-pregon-bench-"));
  const rows: string[] = [];
  const figures: ColdStartFigures = { bundles: [] };
  try {
    const empty = join(outdir, "empty.mjs");
    writeFileSync(empty, "export const handler = async () => {};\n");
    const node = Array.from({ length: runs }, () => coldImport(empty));
    const nodeReady = median(node.map(([, ready]) => ready));
    rows.push(
      `| (empty module: Node's own start) | 0 | | ${ms(median(node.map(([i]) => i)))} | ${ms(median(node.map(([, , cpu]) => cpu)))} | ${ms(nodeReady)} | | |`,
    );
    for (const entry of entries) {
      const bundle = await bundleEntry(entry, join(outdir, entry.replace(/\W/g, "_")));
      // Our own modules the code imports with import() (the S3 templates store), not the
      // packages' (the tracer, loaded only where a stage traces).
      const later = bundle.outputs
        .filter((output) => !output.atImport && output.entryPoint?.startsWith("packages/"))
        .map((output) => join(dirname(bundle.file), output.file));
      const times = Array.from({ length: runs }, () => coldImport(bundle.file, entry, later));
      const ready = median(times.map(([, r]) => r));
      const importMs = median(times.map(([i]) => i));
      figures.bundles.push({ entry, importMs, zipKiB: bundle.zip.bytes / 1024 });
      rows.push(
        `| \`${entry.replace("packages/functions/src/", "")}\` | ${num(bundle.bytes / 1024)} (+ ${num(bundle.lazyBytes / 1024)}) | ${num(bundle.zip.bytes / 1024)} | ${ms(importMs)} | ${ms(median(times.map(([, , cpu]) => cpu)))} | ${ms(ready)} | ${ms(ready - nodeReady)} | ${later.length ? `${later.map((file) => `\`${basename(file).replace(/-[A-Z0-9]+\.mjs$/, "")}\``).join(", ")}: ${ms(median(times.map(([, , , first]) => first)))}` : ""} |`,
      );
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const markdown = `Each Lambda entry bundled with SST 4.17's esbuild options and this app's (\`scripts/bundle.ts\`: minified ESM split into chunks, \`bundle.mjs\` and what it imports loaded at import, what the code imports with \`import()\` loaded when first asked for; source maps beside them; the AWS SDK clients each function uses bundled in) and zipped as SST zips it (every chunk, the source maps left out), then imported by a fresh \`node\` process with the environment the function gets on AWS (SST links as \`SST_RESOURCE_*\`); median of ${runs} processes each, run one after another. "Its CPU time" is the CPU (user + system) the importing process spent in the import: on a shared machine it moves less than the import's elapsed time, which waits for the CPU too. The import includes the module's top-level work (configuration parsing, client construction); nothing reaches the network. The last column is what the first request that needs one of our lazily loaded modules pays once per instance, after the import (its import, in the same process); the packages' own lazy chunks (the X-Ray tracer, where a stage traces) are not in it.

| bundle | KiB loaded at import (+ in chunks loaded on demand) | zip KiB (as uploaded: no source map) | import | its CPU time | process start → handler ready | over Node's own start | then, on first use: our modules loaded with import() |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

This is the code-loading part of a cold start only, on this machine's Node ${process.version} (Lambda runs nodejs22.x on its own CPU share); Lambda adds its sandbox start, and the first invocation its first database connection (RDS Proxy, TLS).`;
  return { title: "3. Cold start", markdown, failures: [], figures: { coldStart: figures } };
}
