// CloudWatch alarms (infra/settings.ts `alarmsFor`, `natAlarms`): DLQs and the age of each queue's
// oldest message, every function's errors, the API's 5xx rate and p99 latency, the database's CPU,
// free storage and connections, Pregón's own DatabaseUnavailable, SES reputation and SMS spend
// where the stage owns them, and NAT instances failing their status checks. Each notifies the one
// alarm topic when it fires and when it clears; PREGON_ALARM_EMAIL subscribes an address to it (AWS
// sends a confirmation email first). docs/operations.md says what to do when each fires.
//
// `sst dev` declares none: nobody is paged for a developer's stage.
import { api, http, otp } from "./api";
import { deployConfig } from "./config";
import { database } from "./database";
import { key } from "./encryption";
import { byQueue } from "./messaging";
import { migrator } from "./migrations";
import { vpc } from "./network";
import { consumerFunctions, sweeper } from "./senders";
import {
  type Alarm,
  alarmsFor,
  type FunctionName,
  natAlarmEvaluationPeriods,
  natAlarmPeriodSeconds,
  natAlarms,
} from "./settings";

const name = (alarm: string) => `${$app.name}-${$app.stage}-${alarm}`;
const pascal = (text: string) =>
  text.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase());

/** The name of the Lambda function behind each function of infra/settings.ts. */
const lambdaNames: Record<FunctionName, $util.Input<string>> = {
  http: http.name,
  otp: otp.name,
  migrator: migrator.name,
  sweeper: sweeper.nodes.function.name,
  emailSender: consumerFunctions.emailSender.nodes.function.name,
  smsSender: consumerFunctions.smsSender.nodes.function.name,
  pushSender: consumerFunctions.pushSender.nodes.function.name,
  audit: consumerFunctions.audit.nodes.function.name,
  webhooks: consumerFunctions.webhooks.nodes.function.name,
  feedback: consumerFunctions.feedback.nodes.function.name,
};

function dimensions(alarm: Alarm): Record<string, $util.Input<string>> {
  const { on } = alarm;
  if ("dlq" in on) return { QueueName: byQueue(on.dlq).dlq.nodes.queue.name };
  if ("queue" in on) return { QueueName: byQueue(on.queue).queue.nodes.queue.name };
  if ("function" in on) return { FunctionName: lambdaNames[on.function] };
  if ("api" in on) return { ApiId: api.nodes.api.id };
  if ("database" in on) return { DBInstanceIdentifier: database.nodes.instance!.identifier };
  if ("app" in on) return { service: "pregon", stage: $app.stage };
  return {};
}

function declare(alarm: Alarm, topic: $util.Output<string>) {
  const common = {
    name: name(alarm.name),
    alarmDescription: `${alarm.name}: see "${alarm.family}" in docs/operations.md`,
    comparisonOperator: alarm.comparison,
    threshold: alarm.threshold,
    evaluationPeriods: alarm.evaluationPeriods,
    treatMissingData: alarm.treatMissingData,
    alarmActions: [topic],
    okActions: [topic],
  } satisfies Partial<aws.cloudwatch.MetricAlarmArgs>;
  const dims = dimensions(alarm);
  if (alarm.rate) {
    const metric = (id: string, metricName: string) => ({
      id,
      metric: {
        namespace: alarm.namespace,
        metricName,
        stat: alarm.statistic,
        period: alarm.periodSeconds,
        dimensions: dims,
      },
      returnData: false,
    });
    return new aws.cloudwatch.MetricAlarm(`${pascal(alarm.name)}Alarm`, {
      ...common,
      metricQueries: [
        metric("part", alarm.metric),
        metric("total", alarm.rate.of),
        {
          id: "rate",
          label: `${alarm.metric} per 100 ${alarm.rate.of}`,
          expression: `IF(total >= ${alarm.rate.minimum}, 100 * FILL(part, 0) / total, 0)`,
          returnData: true,
        },
      ],
    });
  }
  const percentile = alarm.statistic.startsWith("p");
  return new aws.cloudwatch.MetricAlarm(`${pascal(alarm.name)}Alarm`, {
    ...common,
    namespace: alarm.namespace,
    metricName: alarm.metric,
    ...(percentile ? { extendedStatistic: alarm.statistic } : { statistic: alarm.statistic }),
    period: alarm.periodSeconds,
    ...(Object.keys(dims).length && { dimensions: dims }),
  });
}

export const alarmTopic = $dev
  ? undefined
  : new sst.aws.SnsTopic("AlarmTopic", {
      transform: { topic: { kmsMasterKeyId: key.arn } },
    });

if (alarmTopic) {
  if (deployConfig.alarmEmail) {
    new aws.sns.TopicSubscription("AlarmEmail", {
      topic: alarmTopic.arn,
      protocol: "email",
      endpoint: deployConfig.alarmEmail,
    });
  }

  for (const alarm of alarmsFor(deployConfig)) declare(alarm, alarmTopic.arn);

  // NAT instances (stages whose NAT is `ec2`): each is its AZ's only way out (infra/network.ts).
  const region = aws.getRegionOutput().region;
  const partition = aws.getPartitionOutput().partition;
  const topic = alarmTopic.arn;
  vpc?.nodes.natInstances.apply((instances) =>
    instances.forEach((instance, i) => {
      for (const { metric, action } of natAlarms) {
        const check = metric.split("_")[1]!;
        new aws.cloudwatch.MetricAlarm(`NatInstance${i + 1}${check}Alarm`, {
          name: name(`nat-instance-${i + 1}-${check.toLowerCase()}`),
          alarmDescription: `NAT instance ${i + 1} failed its ${metric} check: ${action}; the functions of its AZ cannot reach AWS services meanwhile (see "nat-instance-<n>-<check>" in docs/operations.md)`,
          namespace: "AWS/EC2",
          metricName: metric,
          statistic: "Maximum",
          dimensions: { InstanceId: instance.id },
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          period: natAlarmPeriodSeconds,
          evaluationPeriods: natAlarmEvaluationPeriods,
          treatMissingData: "missing",
          alarmActions: [topic, $interpolate`arn:${partition}:automate:${region}:ec2:${action}`],
          okActions: [topic],
        });
      }
    }),
  );
}
