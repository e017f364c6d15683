import { createSweeper } from "./handlers/sweeper";
import { startLambda } from "./lambda";

startLambda({ outbox: true });

/** The cron sweeper's Lambda (EventBridge schedule). */
export const handler = createSweeper();
