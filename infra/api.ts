// API Gateway HTTP API. The OTP routes go to their own function (the Otp function: its own
// permissions and concurrency, so a flood of sends cannot starve code checks, nor the reverse);
// every other request reaches the http function. Http and Otp run the same Hono app. The API
// reference's script is not here: its own distribution serves it (infra/docs.ts).
//
// Every route is throttled, in every stage (infra/settings.ts: each API function's `throttle`, per
// route): the http function's through the stage's default route settings, each OTP route on its
// own, tighter. API Gateway answers 429 beyond. A route's settings name a route that must exist
// when the stage is written (API Gateway refuses them otherwise), and SST's component creates the
// stage before any route: the stage waits for the routes.
//
// The access log leaves out request paths: an unsubscribe link's (/u/{token}) is a credential.
//
// CORS only for the origins PREGON_CORS_ORIGINS names: API keys are server-side secrets, and the
// operators' console is served by a named origin or not at all.
//
// PREGON_API_DOMAIN gives the API a domain of its own: with Route 53, SST's component requests an
// ACM certificate, validates it by DNS and writes the alias; elsewhere PREGON_API_DOMAIN_CERT names
// a certificate issued for it and the CNAME is yours to add (docs/deploy.md). Its access log is
// kept as long as the stage's profile keeps logs.
//
// PREGON_API_FAILOVER makes the domain's alias records Route 53 failover records, one per stage
// (the primary region's stage and the passive one's, each writing its own): a health check asks
// the stage's own endpoint (execute-api, not the shared name) for /health/ready, and Route 53
// answers with the secondary only while the primary's check fails. Both stages request the same
// domain's certificate in their own region and write the same validation record (ACM gives one
// per domain and account), so each may overwrite it.
import { deployConfig } from "./config";
import { functionArgs } from "./functions";
import { afterMigrations } from "./migrations";
import { apiFailover, functions, type Throttle } from "./settings";

const throttling = (throttle: Throttle) => ({
  throttlingBurstLimit: throttle.burstLimit,
  throttlingRateLimit: throttle.rateLimitPerSecond,
});

type Route = ReturnType<sst.aws.ApiGatewayV2["route"]>;
let routesDeclared: (routes: Route[]) => void = () => {};
const routes = new Promise<Route[]>((resolve) => {
  routesDeclared = resolve;
});

const { corsOrigins, apiDomain } = deployConfig;
const failover = apiDomain?.failover;

let healthCheckMade: (id: $util.Output<string>) => void = () => {};
const healthCheckId = new Promise<$util.Output<string>>((resolve) => {
  healthCheckMade = resolve;
});

/** Route 53 records of the API's domain, as failover records where the stage takes part in one. */
const dns = sst.aws.dns({
  transform: {
    record: (args) => {
      if (!failover) return;
      if (!args.aliases) {
        // The certificate's validation record, the same in both stages.
        args.allowOverwrite = true;
        return;
      }
      args.setIdentifier = `${$app.stage}-${deployConfig.region}`;
      args.failoverRoutingPolicies = [{ type: failover.toUpperCase() }];
      args.healthCheckId = $output(healthCheckId);
    },
  },
});

export const api = new sst.aws.ApiGatewayV2("Api", {
  ...(apiDomain && {
    domain: apiDomain.cert
      ? { name: apiDomain.name, dns: false as const, cert: apiDomain.cert }
      : { name: apiDomain.name, dns },
  }),
  accessLog: { retention: deployConfig.logRetention },
  cors: corsOrigins.length
    ? {
        allowOrigins: corsOrigins,
        allowMethods: ["GET", "POST", "PUT", "DELETE"],
        allowHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id"],
        // What a browser may read of a refusal (packages/api/src/app.ts).
        exposeHeaders: [
          "retry-after",
          "ratelimit-limit",
          "ratelimit-remaining",
          "ratelimit-reset",
          "x-request-id",
        ],
        maxAge: "1 hour",
      }
    : false,
  transform: {
    stage: (args, opts) => {
      // SST's access log records each request's path; an unsubscribe link's path holds its token,
      // which acts for its recipient. The same fields but that one (the route key names the route).
      const log = args.accessLogSettings as { destinationArn: $util.Input<string>; format: string };
      const { path: _path, ...fields } = JSON.parse(log.format) as Record<string, string>;
      args.accessLogSettings = { ...log, format: JSON.stringify(fields) };
      args.defaultRouteSettings = throttling(functions.http.trigger.throttle);
      args.routeSettings = functions.otp.trigger.routes.map((routeKey) => ({
        routeKey,
        ...throttling(functions.otp.trigger.throttle),
      }));
      opts.dependsOn = routes;
    },
  },
});

/** The stage's own API endpoint's readiness, which its failover record follows. */
export const healthCheck = failover
  ? new aws.route53.HealthCheck("ApiHealthCheck", {
      type: "HTTPS",
      fqdn: api.nodes.api.apiEndpoint.apply((endpoint) => new URL(endpoint).host),
      port: 443,
      resourcePath: apiFailover.healthPath,
      requestInterval: apiFailover.intervalSeconds,
      failureThreshold: apiFailover.failureThreshold,
      tags: { Name: `${$app.name}-${$app.stage}-api-${failover}` },
    })
  : undefined;
if (healthCheck) healthCheckMade(healthCheck.id);

export const http = new sst.aws.Function("Http", functionArgs("http"), afterMigrations);
export const otp = new sst.aws.Function("Otp", functionArgs("otp"), afterMigrations);
routesDeclared([
  ...functions.http.trigger.routes.map((route) => api.route(route, http.arn)),
  ...functions.otp.trigger.routes.map((route) => api.route(route, otp.arn)),
]);
