import { createApp } from "@pregon/api";
import { Database } from "@pregon/core";
import { handle } from "hono/aws-lambda";
import { loadLambdaConfig } from "./config";

// One connection per Lambda; RDS Proxy pools them and cannot keep prepared statements.
Database.configure({ url: loadLambdaConfig().databaseUrl, max: 1, prepare: false });

/** API Gateway HTTP API (payload v2) -> the same Hono app the local server runs. */
export const handler = handle(createApp());
