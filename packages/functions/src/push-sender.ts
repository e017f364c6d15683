import { SNSClient } from "@aws-sdk/client-sns";
import * as Push from "@pregon/core/push";
import { createPushSender } from "./handlers/sender";
import { lambdaHandler, startLambda } from "./lambda";
import { traced } from "./tracing";

const config = startLambda({ outbox: true });

/** The push queue's Lambda (SQS event source mapping with ReportBatchItemFailures). */
export const handler = lambdaHandler(
  createPushSender({ gateway: Push.snsPushGateway(traced(new SNSClient({})), config.push) }),
);
