/// <reference path="./.sst/platform/config.d.ts" />

// Pregón on AWS. The resources live in infra/*.ts; this file only wires them.
// `npm run typecheck:infra` checks it against SST's own platform types.

// What app() may return. `satisfies` below makes a misspelt key an error:
// TypeScript does not check a method's returned object literal for extra keys.
type AppConfig = Awaited<ReturnType<Parameters<typeof $config>[0]["app"]>>;

export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "pregon",
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
    } satisfies AppConfig;
  },
  async run() {
    const storage = await import("./infra/storage");
    const messaging = await import("./infra/messaging");
    const api = await import("./infra/api");
    await import("./infra/senders");

    return {
      api: api.api.url,
      templatesBucket: storage.templates.name,
      topics: messaging.topicArns,
    };
  },
});
