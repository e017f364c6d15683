// API Gateway HTTP API. The OTP routes go to their own function (the seed's "Lambda OTP": its own
// permissions and concurrency), the API reference's script to another; every other request
// reaches the http function. Http and Otp run the same Hono app.
//
// Where the stage reserves no concurrency (PREGON_RESERVED_CONCURRENCY), the stage's throttle is
// what holds the two functions' instances to the connection budget (infra/settings.ts
// `apiThrottle`); API Gateway answers 429 beyond it.
import { deployConfig } from "./config";
import { functionArgs } from "./functions";
import { apiThrottle, functions } from "./settings";

export const api = new sst.aws.ApiGatewayV2("Api", {
  transform: {
    stage: (args) => {
      if (deployConfig.concurrency.reservedConcurrency) return;
      args.defaultRouteSettings = {
        throttlingBurstLimit: apiThrottle.burstLimit,
        throttlingRateLimit: apiThrottle.rateLimitPerSecond,
      };
    },
  },
});

export const http = new sst.aws.Function("Http", functionArgs("http"));
for (const route of functions.http.trigger.routes) api.route(route, http.arn);

export const otp = new sst.aws.Function("Otp", functionArgs("otp"));
for (const route of functions.otp.trigger.routes) api.route(route, otp.arn);

export const docsAssets = new sst.aws.Function("DocsAssets", functionArgs("docsAssets"));
for (const route of functions.docsAssets.trigger.routes) api.route(route, docsAssets.arn);
