import { functionDefaults } from "./config";
import { topics } from "./messaging";
import { templates } from "./storage";

export const api = new sst.aws.ApiGatewayV2("Api");

// One catch-all route: the Hono app in the function does its own routing
// (/trpc, /v1, /openapi.json, /docs, /health).
api.route("$default", {
  ...functionDefaults,
  handler: "packages/functions/src/http.handler",
  link: [templates, ...topics],
});
