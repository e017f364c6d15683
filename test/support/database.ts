import { randomBytes } from "node:crypto";
import { Database } from "@pregon/core";
import type { AwsEndpoint, QueueRef } from "@pregon/functions/local/stack";
import postgres from "postgres";
import { afterAll, inject } from "vitest";

/** What global-setup.ts started for the run. */
export interface TestStack {
  adminUrl: string;
  templateDatabase: string;
  aws: AwsEndpoint;
  mailboxUrl: string;
  topics: Record<string, string>;
  queues: Record<string, QueueRef>;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

export const stack = inject("stack");

/**
 * Each test file gets a database of its own, cloned from the migrated template, so files run in
 * parallel without seeing each other's rows.
 */
const { adminUrl, templateDatabase } = stack;
const name = `test_${randomBytes(6).toString("hex")}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
for (let attempt = 1; ; attempt++) {
  try {
    await admin.unsafe(`create database ${name} template ${templateDatabase}`);
    break;
  } catch (error) {
    // Two files cloning the template at the same instant: "source database is being accessed".
    if ((error as { code?: string }).code !== "55006" || attempt === 20) throw error;
    await new Promise((done) => setTimeout(done, 50 * attempt));
  }
}
await admin.end();

export const databaseUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
process.env.DATABASE_URL = databaseUrl;
Database.configure({ url: databaseUrl });

afterAll(() => Database.close());
