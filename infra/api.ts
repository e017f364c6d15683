// API Gateway HTTP API. The OTP routes go to their own function (the seed's "Lambda OTP": its own
// permissions and reserved concurrency); every other request reaches the http function. Both run
// the same Hono app.
import { functionArgs } from "./functions";
import { functions } from "./settings";

export const api = new sst.aws.ApiGatewayV2("Api");

export const http = new sst.aws.Function("Http", functionArgs("http"));
for (const route of functions.http.trigger.routes) api.route(route, http.arn);

export const otp = new sst.aws.Function("Otp", functionArgs("otp"));
for (const route of functions.otp.trigger.routes) api.route(route, otp.arn);
