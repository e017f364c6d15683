import { createSweeper } from "./handlers/sweeper";
import { lambdaHandler, startLambda } from "./lambda";

// Its purges may delete many rows at once: a longer deadline, inside the function's timeout.
startLambda({ outbox: true, queryTimeoutMs: 25_000 });

/** The cron sweeper's Lambda (EventBridge schedule). */
export const handler = lambdaHandler(createSweeper());
