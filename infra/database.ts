// RDS Postgres 17 behind RDS Proxy, in the VPC's private subnets. Storage is encrypted at rest by
// the component itself (`storageEncrypted: true`, the account's aws/rds key). Functions link it
// and build their connection from Resource.Database (packages/functions/src/config.ts).
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

const production = $app.stage === "production";

export const database = new sst.aws.Postgres("Database", {
  vpc,
  version: settings.version,
  instance: settings.instance,
  storage: `${settings.storageGb} GB`,
  database: "pregon",
  proxy: true,
  // `sst dev` skips RDS and links the local stack's Postgres (npm start; packages/functions/src/
  // local/stack.ts): loopback only, user and password postgres, database pregon.
  dev: {
    host: "127.0.0.1",
    port: deployConfig.localPgPort,
    username: "postgres",
    password: "postgres",
    database: "pregon",
  },
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
      args.deletionProtection = production;
    },
    // Clients connect with TLS only (sslmode=verify-full: RDS Proxy's certificates are public ACM ones).
    proxy: (args) => {
      args.requireTls = true;
    },
  },
});
