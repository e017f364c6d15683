// The layers of Pregón, bottom up; a layer imports only from the layers below it (and inside
// itself, without cycles). docs/architecture.md ("Layers") says why each module sits where it does;
// test/layers.test.ts checks that this file passes on the code and fails on code that breaks it.
//
// Paths are relative to the directory depcruise runs in (the repository, or a test's fixture).

const core = "^packages/core/src/";

/** db, clock, crypto (the shared HMAC), log, error, and the plain rules everything reads. */
const ground = `${core}(db|clock|crypto|log|actor|phone)/|${core}(error|channel)\\.ts$`;

/**
 * What speaks to the outside: the mailer, the SMS and push gateways, the publisher, the template
 * store, the guarded HTTP client (token issuers' keys, webhooks).
 */
const adapters = `${core}(email/(mailer|ses)|sms/(gateway|sns)|push/(gateway|sns)|template/store)\\.ts$|${core}(outbox|fetch)/`;

/** The concepts sends are made of. */
const domain = `${core}(delivery|notification|template|suppression|ratelimit|idempotency|fraud|audit|fact|project|apikey|issuer|device|region|webhook|category|preference|reputation)/`;

/** The channel sends; a one-time code (otp) sits above them and uses them. */
const channelSends = `${core}(email|sms|push)/`;
const otp = `${core}otp/`;
const features = `${channelSends}|${otp}`;

/** The entry points around core. */
const top = "^packages/(api|functions|local)/";

/** A table definition: drizzle and other tables only. */
const table = "\\.sql\\.ts$";

/** The one file that gathers every table (for drizzle and the migrations). */
const schemaIndex = `${core}db/schema\\.ts$`;

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes the order of loading, and of understanding, undefined.",
      from: {},
      to: { circular: true },
    },
    {
      name: "ground-imports-ground",
      severity: "error",
      comment: "Ground modules import only ground modules (the schema index: only tables).",
      from: { path: ground, pathNot: schemaIndex },
      to: { path: `${core}|^packages/`, pathNot: ground },
    },
    {
      name: "schema-index-imports-tables",
      severity: "error",
      comment: "The schema index gathers the tables and nothing else.",
      from: { path: schemaIndex },
      to: { path: "^packages/", pathNot: table },
    },
    {
      name: "only-the-schema-index-gathers-tables",
      severity: "error",
      comment: "In the ground, only the schema index imports table files.",
      from: { path: ground, pathNot: schemaIndex },
      to: { path: table },
    },
    {
      name: "tables-import-tables",
      severity: "error",
      comment:
        "A table file defines a table: it imports other tables (foreign keys), nothing else.",
      from: { path: table },
      to: { path: "^packages/", pathNot: table },
    },
    {
      name: "adapters-import-ground",
      severity: "error",
      comment: "An adapter knows its provider and the ground, not what is sent.",
      from: { path: adapters },
      to: { path: `${domain}|${features}|${top}`, pathNot: adapters },
    },
    {
      name: "domain-imports-below-features",
      severity: "error",
      comment: "The domain knows channels and a content hook, never a send or a one-time code.",
      from: { path: domain, pathNot: adapters },
      to: { path: `${features}|${top}`, pathNot: adapters },
    },
    {
      name: "channel-sends-import-no-otp",
      severity: "error",
      comment: "One-time codes use the channel sends, not the other way round.",
      from: { path: channelSends },
      to: { path: otp },
    },
    {
      name: "core-imports-no-entry-point",
      severity: "error",
      comment: "Core knows nothing of HTTP, Lambda or the local stack.",
      from: { path: core },
      to: { path: top },
    },
    {
      name: "api-imports-no-runtime",
      severity: "error",
      comment: "The API is one app any runtime serves: it imports neither functions nor local.",
      from: { path: "^packages/api/" },
      to: { path: "^packages/(functions|local)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.test\\.ts$|/migrations/" },
    // Type-only imports count: a type from a higher layer is a dependency on it too.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
