import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // One Postgres, fauxqs and SES emulator per run; each test file gets its own database.
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/setup.ts"],
    env: { LOG_LEVEL: "SILENT", AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1" },
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
