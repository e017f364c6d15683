// API Gateway HTTP API. The OTP routes go to their own function (the seed's "Lambda OTP": its own
// permissions and concurrency), the API reference's script to another; every other request
// reaches the http function. Http and Otp run the same Hono app.
//
// Every route is throttled, in every stage (infra/settings.ts: each API function's `throttle`, per
// route): the http function's through the stage's default route settings, each OTP and API
// reference route on its own, tighter. API Gateway answers 429 beyond. A route's settings name a route that must exist
// when the stage is written (API Gateway refuses them otherwise), and SST's component creates the
// stage before any route: the stage waits for the routes.
//
// CORS only for the origins PREGON_CORS_ORIGINS names: API keys are server-side secrets, and the
// operators' console is served by a named origin or not at all.
//
// PREGON_API_DOMAIN gives the API a domain of its own: with Route 53, SST's component requests an
// ACM certificate, validates it by DNS and writes the alias; elsewhere PREGON_API_DOMAIN_CERT names
// a certificate issued for it and the CNAME is yours to add (docs/deploy.md). Its access log is
// kept as long as the stage's profile keeps logs.
import { deployConfig } from "./config";
import { functionArgs } from "./functions";
import { afterMigrations } from "./migrations";
import { functions, type Throttle } from "./settings";

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

export const api = new sst.aws.ApiGatewayV2("Api", {
  ...(apiDomain && {
    domain: apiDomain.cert
      ? { name: apiDomain.name, dns: false as const, cert: apiDomain.cert }
      : { name: apiDomain.name, dns: sst.aws.dns() },
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
      args.defaultRouteSettings = throttling(functions.http.trigger.throttle);
      args.routeSettings = [functions.otp, functions.docsAssets].flatMap(({ trigger }) =>
        trigger.routes.map((routeKey) => ({ routeKey, ...throttling(trigger.throttle) })),
      );
      opts.dependsOn = routes;
    },
  },
});

export const http = new sst.aws.Function("Http", functionArgs("http"), afterMigrations);
export const otp = new sst.aws.Function("Otp", functionArgs("otp"), afterMigrations);
export const docsAssets = new sst.aws.Function("DocsAssets", functionArgs("docsAssets"));
routesDeclared([
  ...functions.http.trigger.routes.map((route) => api.route(route, http.arn)),
  ...functions.otp.trigger.routes.map((route) => api.route(route, otp.arn)),
  ...functions.docsAssets.trigger.routes.map((route) => api.route(route, docsAssets.arn)),
]);
