// Browser tests: Chromium from the @sparticuz/chromium npm package (no download beyond `npm ci`)
// driven by playwright-core, against Pregón as `npm start` runs it.
//
//   import { browserTest as test } from "./support/browser";
//   test("…", async ({ page, pregon, external }) => { await page.goto(`${pregon.url}/docs`); … });
//
// One browser and one `npm start` per test file; a fresh page (its own context) per test. The
// page reaches only this machine: any other request is refused and listed in `external`. When a
// test fails, a screenshot of its page is saved under test-results/screenshots/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { test } from "vitest";
import { ownerUrl } from "./setup";
import { ports, start } from "./start";

const root = join(import.meta.dirname, "..", "..");
export const screenshotsDir = join(root, "test-results", "screenshots");

/**
 * The Chromium binary of @sparticuz/chromium, unpacked once per version. The package unpacks into
 * os.tmpdir() and reuses whatever `chromium` it finds there, whichever version and however far
 * written; so it unpacks here into a fresh folder, which a rename then puts in place whole. Test
 * files running at once may both unpack: the first rename wins.
 */
function chromiumExecutable(): string {
  const packageDir = join(root, "node_modules", "@sparticuz", "chromium");
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const dir = join(tmpdir(), `pregon-chromium-${version}`);
  const executable = join(dir, "chromium");
  if (existsSync(executable)) return executable;
  const staging = mkdtempSync(join(tmpdir(), "pregon-chromium-unpacking-"));
  execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `await (await import("@sparticuz/chromium")).default.executablePath()`,
    ],
    { cwd: root, env: { ...process.env, TMPDIR: staging }, stdio: "pipe" },
  );
  try {
    renameSync(staging, dir);
  } catch (error) {
    if (!existsSync(executable)) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  return executable;
}

/** Chromium, headless, as root on a machine whose network may be closed. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumExecutable(),
    // Playwright adds --no-sandbox (needed as root) and turns off Chromium's own background
    // connections (updates, sync, field trials); QUIC and the GPU are not needed either.
    args: ["--disable-gpu", "--disable-quic"],
  });
}

const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true;
  return ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
};

export interface Pregon {
  /** Where the API answers, e.g. http://127.0.0.1:41234 */
  url: string;
  /** `npm start`'s output so far. */
  output: () => string;
}

export const browserTest = test.extend<{
  $test: { page: Page; external: string[] };
  $file: { browser: Browser; pregon: Pregon };
}>({
  browser: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from it
    async ({}, use) => {
      const browser = await launchBrowser();
      await use(browser);
      await browser.close();
    },
    { scope: "file" },
  ],
  // `npm start` on free ports, with this file's database (the embedded Postgres is the local
  // stack test's concern) and data folder.
  pregon: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from it
    async ({}, use) => {
      const dataDir = await mkdtemp(join(tmpdir(), "pregon-browser-"));
      const env = { ...(await ports()), PREGON_DATA_DIR: dataDir, DATABASE_URL: ownerUrl };
      const run = start(env);
      try {
        await run.ready;
        await use({ url: `http://127.0.0.1:${env.PORT}`, output: run.output });
      } finally {
        if (run.child.exitCode === null) {
          run.signal("SIGTERM");
          await run.exited;
        }
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    { scope: "file" },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from it
  external: async ({}, use) => use([]),
  page: async ({ browser, external, task }, use) => {
    const context = await browser.newContext();
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      external.push(url);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    // Shorter than a test's timeout: a locator that waits in vain fails with its own message, and
    // the page is still there for the screenshot.
    page.setDefaultTimeout(15_000);
    await use(page);
    if (task.result?.state === "fail") {
      const file = join(screenshotsDir, `${task.name.replace(/[^\w.-]+/g, "-").slice(0, 100)}.png`);
      mkdirSync(dirname(file), { recursive: true });
      await page.screenshot({ path: file, fullPage: true });
      console.error(`screenshot of the failed test's page: ${file}`);
    }
    await context.close();
  },
});
