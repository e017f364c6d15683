import { SNSClient } from "@aws-sdk/client-sns";
import { Push } from "@pregon/core";
import { createPushSender } from "./handlers/sender";
import { startLambda } from "./lambda";

const config = startLambda({ outbox: true });

/** The push queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = createPushSender({
  sender: Push.snsPushSender(new SNSClient({}), config.push),
});
