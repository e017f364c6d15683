// RDS Postgres 17 behind RDS Proxy, in the VPC's private subnets. Storage is encrypted at rest by
// the component itself (`storageEncrypted: true`, the account's aws/rds key).
//
// Two roles. The owner is RDS's master user: the Migrator alone links it (`Database`), to run the
// migrations. Every other function links `AppDatabase`: the application role, which only reads and
// writes rows (packages/core/src/db/role.ts). The Migrator creates that role and applies its grants
// after every migration run; its password is generated here, and registered with RDS Proxy (a
// Secrets Manager secret the proxy reads), which otherwise knows the master user only. Functions
// build their connection from the link (packages/functions/src/config.ts).
import { RandomPassword } from "@pulumi/random";
import { appRole, derivedCredentials } from "../packages/core/src/db/credentials";
import { deployConfig } from "./config";
import { vpc } from "./network";
import { database as settings } from "./settings";

// The proxy's default target group is created inside the component, which offers no transform for
// it: cap what the proxy may open at the budget infra/settings.ts reckons with.
$transform(aws.rds.ProxyDefaultTargetGroup, (args) => {
  args.connectionPoolConfig = {
    maxConnectionsPercent: settings.proxyMaxConnectionsPercent,
    maxIdleConnectionsPercent: Math.floor(settings.proxyMaxConnectionsPercent / 2),
  };
});

const profile = deployConfig.database;

/**
 * `sst dev` skips RDS and links the local stack's Postgres (npm start; packages/functions/src/
 * local/stack.ts): loopback only, its owner postgres/postgres, and the application role `npm start`
 * readies there, whose password derives from the owner's.
 */
const local = {
  host: "127.0.0.1",
  port: deployConfig.localPgPort,
  username: "postgres",
  password: "postgres",
  database: "pregon",
};

/** The application role's password: generated once per stage, kept in the stage's state. */
export const appPassword: $util.Input<string> = $dev
  ? derivedCredentials(
      `postgres://${local.username}:${local.password}@${local.host}:${local.port}/${local.database}`,
    ).password
  : new RandomPassword("DatabaseAppPassword", { length: 32, special: false }).result;

export const database = new sst.aws.Postgres("Database", {
  // Under `sst dev` the component makes nothing (`dev` below) and there is no VPC to name.
  vpc: vpc ?? { subnets: [] },
  version: settings.version,
  instance: profile.instance,
  storage: `${profile.storageGb} GB`,
  database: "pregon",
  multiAz: profile.multiAz,
  // The proxy authenticates clients against these secrets and connects with them: the master
  // user's (the component's own) and the application role's.
  proxy: { credentials: [{ username: appRole, password: appPassword }] },
  dev: local,
  transform: {
    // An explicit max_connections, so the connection budget is a number and not an estimate.
    parameterGroup: (args) => {
      args.parameters = $output(args.parameters ?? []).apply((parameters) => [
        ...parameters,
        {
          name: "max_connections",
          value: String(settings.maxConnections),
          applyMethod: "pending-reboot",
        },
      ]);
    },
    instance: (args) => {
      args.deletionProtection = profile.deletionProtection;
      // SST's component skips the final snapshot; deleting or replacing the instance (the
      // component replaces it by deleting first) would then keep nothing but what AWS deletes
      // with it.
      args.skipFinalSnapshot = !profile.finalSnapshot;
      if (profile.finalSnapshot) {
        args.finalSnapshotIdentifier = `${$app.name}-${$app.stage}-database-final`;
        args.copyTagsToSnapshot = true;
        args.deleteAutomatedBackups = false;
      }
    },
    // Clients connect with TLS only (sslmode=verify-full: RDS Proxy's certificates are public ACM ones).
    proxy: (args) => {
      args.requireTls = true;
    },
  },
});

/** What every function but the Migrator connects as (Resource.AppDatabase). */
export const appDatabase = new sst.Linkable("AppDatabase", {
  properties: {
    host: database.host,
    port: database.port,
    database: database.database,
    username: appRole,
    password: appPassword,
  },
});
