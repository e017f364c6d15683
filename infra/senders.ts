// The queue consumers (each with partial batch responses and a maximum concurrency on its event
// source mapping, counted in the database's connection budget: infra/settings.ts) and the sweeper,
// an EventBridge Scheduler schedule (CronV2: SST deprecates Cron, its EventBridge rule).
import { functionArgs } from "./functions";
import { byQueue } from "./messaging";
import { afterMigrations } from "./migrations";
import { functions, sweeperEvent } from "./settings";

const consumers = ["emailSender", "smsSender", "pushSender", "audit", "feedback"] as const;

export const consumerFunctions = Object.fromEntries(
  consumers.map((name) => {
    const { queue, batchSize, maximumConcurrency } = functions[name].trigger;
    const subscriber = byQueue(queue).queue.subscribe(
      functionArgs(name),
      {
        batch: { size: batchSize, partialResponses: true },
        transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency } } },
      },
      afterMigrations,
    );
    return [name, subscriber];
  }),
) as Record<(typeof consumers)[number], ReturnType<sst.aws.Queue["subscribe"]>>;

const { everyMinutes } = functions.sweeper.trigger;
export const sweeper = new sst.aws.CronV2(
  "Sweeper",
  {
    schedule: `rate(${everyMinutes} ${everyMinutes === 1 ? "minute" : "minutes"})`,
    function: functionArgs("sweeper"),
    event: sweeperEvent,
  },
  afterMigrations,
);
