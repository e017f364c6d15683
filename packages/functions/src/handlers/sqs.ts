import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import * as Log from "@pregon/core/log";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { z } from "zod";

/** A message body as `schema` describes it, or undefined when it is not JSON of that shape. */
export function parseBody<T extends z.ZodType>(schema: T, body: string): z.infer<T> | undefined {
  try {
    return schema.safeParse(JSON.parse(body)).data;
  } catch {
    return undefined;
  }
}

/** Thrown by a record's handler to have the record received again (its reason is already logged). */
export class ReceiveAgain extends Error {}

/**
 * A queue's consumer with partial batch responses (the event source mapping's
 * ReportBatchItemFailures): `handle` runs for one record after another, never two at once (a
 * Lambda holds one database connection, and a sender paces its sends) unless `parallel` (records
 * that mostly wait on someone else, such as webhook receivers), and every record whose
 * `handle` throws is named in `batchItemFailures`, to come back after its visibility timeout. A
 * batch that failed whole is reported the same way rather than thrown: SQS returns it just the
 * same, without a function error. The metrics of the batch are written before it reports.
 */
export function queueConsumer(
  handle: (record: SQSRecord, context?: Context) => Promise<void>,
  options: { parallel?: boolean } = {},
) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const response = await processPartialResponse(
      event,
      handle,
      new BatchProcessor(EventType.SQS),
      { context, processInParallel: options.parallel ?? false, throwOnFullBatchFailure: false },
    );
    Log.flushMetrics();
    return response;
  };
}
