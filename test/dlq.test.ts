import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { DeleteMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Database, Email } from "@pregon/core";
import { createEmailSender } from "@pregon/functions/handlers/sender";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  acknowledge,
  event,
  mailbox,
  mailer,
  receiveAll,
  sqs,
  uniqueDomain,
} from "./support/email";
import { projectWithKey, settings } from "./support/fixtures";
import { databaseUrl, pipelines, stack } from "./support/setup";

const root = join(import.meta.dirname, "..");
const { url: queueUrl, dlqUrl } = pipelines.queues.email;

/** `npm run pregon -- dlq …` against this file's queues in the run's emulator. */
async function pregon(...args: string[]) {
  const { stdout } = await promisify(execFile)(
    "npm",
    ["run", "-s", "pregon", "--", ...args, "--queue-url", queueUrl, "--dlq-url", dlqUrl],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        AWS_ENDPOINT_URL_SQS: stack.aws.endpoint,
        AWS_REGION: stack.aws.region,
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
      },
    },
  );
  return stdout;
}

describe("npm run pregon -- dlq", () => {
  it("lists a parked message, and a redrive delivers what ran out of receives", async () => {
    const { as } = await projectWithKey();
    const domain = uniqueDomain();
    const accepted = await as(() =>
      Email.send(
        { to: [`a@${domain}`, `b@${domain}`], subject: "again", text: "t" },
        settings.email,
      ),
    );
    // The message's last receive during an SES outage: its deliveries fail, SQS parks it.
    const [record] = await receiveAll(1);
    const down = createEmailSender({
      sendRate: 5000,
      mailer: { send: () => Promise.reject(new Email.SendError("ServiceUnavailable", false)) },
    });
    const last = {
      ...record!,
      attributes: { ...record!.attributes, ApproximateReceiveCount: "5" },
    };
    expect((await down(event(last))).batchItemFailures).toHaveLength(1);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: record!.body }));
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record!.receiptHandle }),
    );

    const listed = await pregon("dlq", "list", "email");
    expect(listed).toContain(record!.body);
    expect(await pregon("dlq", "redrive", "email")).toBe(
      "Moved 1 message(s) back to email; 2 delivery(ies) queued again\n",
    );
    expect(await pregon("dlq", "list", "email")).toBe("The email DLQ is empty\n");

    const [redriven] = await receiveAll(1);
    expect(redriven!.body).toBe(record!.body);
    await createEmailSender({ mailer, sendRate: 5000 })(event(redriven!));
    await acknowledge([redriven!]);
    expect((await mailbox(domain)).map((e) => e.subject)).toEqual(["again", "again"]);
    const rows = await Database.use().execute<{ status: string }>(
      sql`select status from deliveries where notification_id = ${accepted.id}`,
    );
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent"]);
  }, 60_000);
});
