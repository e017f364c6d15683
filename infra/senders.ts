// The queue consumers (each with partial batch responses and a maximum concurrency on its event
// source mapping, counted in the database's connection budget: infra/settings.ts) and the sweeper,
// an EventBridge Scheduler schedule (CronV2: SST deprecates Cron, its EventBridge rule).
//
// In a passive stage everything is made but nothing runs: each event source mapping is disabled
// (its queue keeps what arrives) and the sweeper's schedule is disabled, so the stage sends nothing
// and publishes nothing. The deploy that promotes it enables both, in place: no resource is made
// at failover time, only switched on.
import { api } from "./api";
import { deployConfig } from "./config";
import { functionArgs } from "./functions";
import { byQueue } from "./messaging";
import { afterMigrations } from "./migrations";
import { functions, sweeperEvent } from "./settings";

const passive = deployConfig.passive !== undefined;

/**
 * Where bulk email's unsubscribe links point: the API (its own domain when it has one), which
 * serves `/u/{token}`. Only the email sender makes links.
 */
const publicUrl = deployConfig.apiDomain ? `https://${deployConfig.apiDomain.name}` : api.url;
const argsOf = (name: (typeof consumers)[number]) => {
  const args = functionArgs(name);
  if (name !== "emailSender") return args;
  return { ...args, environment: { ...args.environment, PREGON_PUBLIC_URL: publicUrl } };
};
const consumers = [
  "emailSender",
  "smsSender",
  "pushSender",
  "audit",
  "webhooks",
  "feedback",
] as const;

export const consumerFunctions = Object.fromEntries(
  consumers.map((name) => {
    const { queue, batchSize, maximumConcurrency } = functions[name].trigger;
    const subscriber = byQueue(queue).queue.subscribe(
      argsOf(name),
      {
        batch: { size: batchSize, partialResponses: true },
        transform: {
          eventSourceMapping: { scalingConfig: { maximumConcurrency }, enabled: !passive },
        },
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
    enabled: !passive,
  },
  afterMigrations,
);
