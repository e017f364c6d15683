import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "@pregon/core";
import { prepareDatabase } from "@pregon/local/bootstrap";
import { startStack } from "@pregon/local/stack";
import postgres from "postgres";
import type { TestProject } from "vitest/node";

const templateDatabase = "pregon_template";

const sesAccount = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: {
    AdditionalContactEmailAddresses: [],
    ContactLanguage: "EN",
    MailType: "TRANSACTIONAL",
    ReviewDetails: { CaseId: "test", Status: "GRANTED" },
    UseCaseDescription: "test",
    WebsiteURL: "https://pregon.test",
  },
  EnforcementStatus: "HEALTHY",
  ProductionAccessEnabled: true,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: 0 },
  SuppressionAttributes: { SuppressedReasons: ["BOUNCE", "COMPLAINT"] },
};

/**
 * Starts the local stack once for the whole run and migrates a template database, readying the
 * application role as `npm start` does: every test file connects as that role.
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), "pregon-test-"));
  // The SES emulator answers GetAccount (what the email sender asks at a cold start on AWS) with
  // this account: out of the sandbox, 14 emails a second.
  process.env.AWS_SES_ACCOUNT = JSON.stringify(sesAccount);
  const stack = await startStack({
    dataDir,
    pgPort: 0,
    awsPort: 0,
    mailboxPort: 0,
    region: "us-east-1",
    ephemeral: true,
  });
  const admin = postgres(stack.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${templateDatabase}`);
  await admin.end();
  const appUrl = await prepareDatabase(
    stack.adminUrl.replace(/\/postgres$/, `/${templateDatabase}`),
  );

  project.provide("stack", {
    adminUrl: stack.adminUrl,
    templateDatabase,
    app: Database.credentialsOf(appUrl),
    aws: stack.aws,
    mailboxUrl: stack.mailboxUrl,
  });
  return async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
