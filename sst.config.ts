/// <reference path="./.sst/platform/config.d.ts" />

// Pregón on AWS. The resources live in infra/*.ts; this file only wires them.
// `npm run typecheck:infra` checks it against SST's own platform types.

// What app() may return. `satisfies` below makes a misspelt key an error:
// TypeScript does not check a method's returned object literal for extra keys.
type AppConfig = Awaited<ReturnType<Parameters<typeof $config>[0]["app"]>>;

export default $config({
  async app(input) {
    const production = input?.stage === "production";
    // Every resource of the stage, its state and its secrets live in one region, named by the
    // stage's configuration rather than by whoever runs the deploy (AWS_REGION, a profile).
    const { regionOf } = await import("./infra/settings");
    return {
      name: "pregon",
      home: "aws",
      providers: { aws: { region: regionOf(process.env) as aws.Region } },
      removal: production ? "retain" : "remove",
      protect: production,
    } satisfies AppConfig;
  },
  async run() {
    // Each file declares one concern; imports pull in what it builds on (network -> database,
    // encryption -> storage and messaging -> email, functions -> migrations -> api and senders).
    // links first: it changes what linking a topic or a bucket grants, before anything links one.
    await import("./infra/links");
    await import("./infra/config");
    const { key } = await import("./infra/encryption");
    await import("./infra/network");
    const { database } = await import("./infra/database");
    const storage = await import("./infra/storage");
    const messaging = await import("./infra/messaging");
    const email = await import("./infra/email");
    await import("./infra/sms");
    await import("./infra/push");
    await import("./infra/migrations");
    const api = await import("./infra/api");
    await import("./infra/senders");
    const alarms = await import("./infra/alarms");
    const docs = await import("./infra/docs");
    const { deployConfig } = await import("./infra/config");

    return {
      api: api.api.url,
      database: database.host,
      templatesBucket: storage.templates.name,
      // What the primary of a failover pair names to replicate its templates here.
      templatesBucketArn: storage.templates.arn,
      dataKey: key.arn,
      topics: messaging.topicArns,
      emailConfigurationSet: email.configurationSetName,
      dkimTokens: email.dkimTokens,
      alarmTopic: alarms.alarmTopic?.arn,
      region: deployConfig.region,
      // Passive: the database replicates the primary and nothing sends (docs/multi-region.md).
      passive: deployConfig.passive !== undefined,
      apiHealthCheck: api.healthCheck?.id,
      // Where /docs loads the API reference's script from (its own distribution).
      docsOrigin: docs.docsOrigin,
    };
  },
});
