// RDS Postgres 17 behind RDS Proxy, in the VPC's private subnets. Storage is encrypted at rest by
// the component itself (`storageEncrypted: true`, the account's aws/rds key).
//
// Two roles. The owner is RDS's master user: the Migrator alone links it (`Database`), to run the
// migrations. Every other function links `AppDatabase`: the application role, which only reads and
// writes rows (packages/core/src/db/role.ts). The Migrator creates that role and applies its grants
// after every migration run; its password is generated here, and registered with RDS Proxy (a
// Secrets Manager secret the proxy reads), which otherwise knows the master user only. Functions
// build their connection from the link (packages/functions/src/config.ts).
//
// A passive stage (PREGON_REPLICA_OF) makes its instance a cross-region read replica of the
// primary's, its storage encrypted with the stage's own key (a cross-region replica of an encrypted
// instance needs a key of its region). A replica has the primary's roles and passwords: the master
// user's comes from the secret `DatabaseMasterPassword` (set to the primary's before the first
// deploy), so the component's own proxy secret holds the password RDS has. It has no proxy: RDS
// Proxy takes a primary instance as its target, not a replica, and nothing connects to the passive
// stage's database but `sst tunnel`. The deploy that promotes it (the variable unset) makes the
// proxy, and the Migrator then gives the application role this stage's password.

import { appRole, derivedCredentials } from "@pregon/core/db/credentials";
import { RandomPassword } from "@pulumi/random";
import { deployConfig } from "./config";
import { key } from "./encryption";
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
const { passive } = deployConfig;

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
  ...(passive && { password: new sst.Secret("DatabaseMasterPassword").value }),
  // The proxy authenticates clients against these secrets and connects with them: the master
  // user's (the component's own) and the application role's.
  proxy: passive ? false : { credentials: [{ username: appRole, password: appPassword }] },
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
      if (passive) {
        // Removing it (the promoting deploy) promotes the replica to a standalone instance.
        args.replicateSourceDb = passive.replicaOf;
        args.kmsKeyId = key.arn;
      }
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
