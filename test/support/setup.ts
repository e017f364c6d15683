import { randomBytes } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  Database,
  Otp,
  Outbox,
  Preference,
  Reputation,
  snsPublisher,
  Template,
  Webhook,
} from "@pregon/core";
import { s3Store } from "@pregon/core/template/s3";
import { type AwsEndpoint, declarePipelines } from "@pregon/local/stack";
import { templatesBucket } from "@pregon/pipelines";
import postgres from "postgres";
import { afterAll, inject } from "vitest";

/** What global-setup.ts started for the run. */
export interface TestStack {
  adminUrl: string;
  templateDatabase: string;
  /** The application role (created by the global setup, cluster-wide). */
  app: Database.Credentials;
  aws: AwsEndpoint;
  mailboxUrl: string;
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

/** This file's database as its owner: what the migrations run as, and DDL in a test. */
export const ownerUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
/**
 * This file's database as the application role, which is how every test connects: the suite is
 * also the proof that the role's grants are all the application needs.
 */
export const databaseUrl = Database.urlAs(ownerUrl, stack.app);
process.env.DATABASE_URL = databaseUrl;
Database.configure({ url: databaseUrl });

afterAll(() => Database.close());

/**
 * Topics and queues of this file alone (the run's emulator is shared: a consumer here must not
 * take another file's messages). Visibility 2 s, so redelivery tests do not wait 3 minutes.
 */
export const pipelines = await declarePipelines(stack.aws, `t${randomBytes(4).toString("hex")}`, {
  visibilityTimeoutSeconds: 2,
});
Outbox.configure(snsPublisher(new SNSClient(stack.aws), pipelines.topics));
Otp.configure({ pepper: "test-pepper-0123456789abcdefghijklmnopqrstuv" });
Webhook.configure({ encryptionSecret: "test-pepper-0123456789abcdefghijklmnopqrstuv" });
Preference.configure({ publicUrl: "https://pregon.test" });
// Test files share one database (one account): none pauses bulk email unless it asks to.
export const neverPause = { project: Number.MAX_SAFE_INTEGER, account: Number.MAX_SAFE_INTEGER };
Reputation.configure({ minVolume: neverPause });
Template.configure(s3Store(new S3Client({ ...stack.aws, forcePathStyle: true }), templatesBucket));
