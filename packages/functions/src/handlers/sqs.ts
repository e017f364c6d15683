import type { SQSBatchResponse } from "aws-lambda";
import type { z } from "zod";

/** A message body as `schema` describes it, or undefined when it is not JSON of that shape. */
export function parseBody<T extends z.ZodType>(schema: T, body: string): z.infer<T> | undefined {
  try {
    return schema.safeParse(JSON.parse(body)).data;
  } catch {
    return undefined;
  }
}

/** The partial batch response naming the records to receive again. */
export const batchFailures = (messageIds: string[]): SQSBatchResponse => ({
  batchItemFailures: messageIds.map((itemIdentifier) => ({ itemIdentifier })),
});
