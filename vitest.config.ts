import { defineConfig } from "vitest/config";

/**
 * Tests set the environment they need: what a developer exported (a bootstrap key, PORT, another
 * PREGON_* setting, AWS credentials or endpoints) must not change what they see. Removed here, in
 * the process that starts the global setup and the workers, so neither they nor the processes the
 * tests spawn (`npm start`, the CLI) inherit it.
 */
const developerSettings = /^(PREGON_|AWS_|SST_|POWERTOOLS_)|^(PORT|DATABASE_URL|LOG_LEVEL)$/;
for (const name of Object.keys(process.env)) {
  if (developerSettings.test(name)) delete process.env[name];
}

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // One Postgres, fauxqs and SES emulator per run; each test file gets its own database.
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/setup.ts"],
    env: {
      LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
