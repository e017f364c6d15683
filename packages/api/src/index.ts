export { createApp, maxBodyBytes } from "./app";
export type { Context, Settings } from "./context";
export type { ErrorBody } from "./error";
export { buildOpenApiDocument } from "./openapi";
export { type AppRouter, appRouter } from "./router";
