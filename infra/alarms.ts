// CloudWatch alarms (infra/settings.ts `alarms`, `natAlarms`): any message in a DLQ, any error of a
// queue consumer, a NAT instance failing its status checks. They notify the alarm topic;
// PREGON_ALARM_EMAIL subscribes an address to it (AWS sends a confirmation email first).
import { deployConfig } from "./config";
import { key } from "./encryption";
import { byQueue } from "./messaging";
import { vpc } from "./network";
import { consumerFunctions } from "./senders";
import {
  alarmPeriodSeconds,
  alarms,
  natAlarmEvaluationPeriods,
  natAlarmPeriodSeconds,
  natAlarms,
} from "./settings";

export const alarmTopic = new sst.aws.SnsTopic("AlarmTopic", {
  transform: { topic: { kmsMasterKeyId: key.arn } },
});

if (deployConfig.alarmEmail) {
  new aws.sns.TopicSubscription("AlarmEmail", {
    topic: alarmTopic.arn,
    protocol: "email",
    endpoint: deployConfig.alarmEmail,
  });
}

const common = {
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0,
  evaluationPeriods: 1,
  period: alarmPeriodSeconds,
  treatMissingData: "notBreaching",
  alarmActions: [alarmTopic.arn],
  okActions: [alarmTopic.arn],
} satisfies Partial<aws.cloudwatch.MetricAlarmArgs>;

for (const alarm of alarms) {
  const id = alarm.name.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase());
  if ("dlq" in alarm.on) {
    new aws.cloudwatch.MetricAlarm(`${id}Alarm`, {
      ...common,
      alarmDescription: `${alarm.on.dlq} DLQ holds messages: npm run pregon -- dlq list ${alarm.on.dlq}`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      statistic: "Maximum",
      dimensions: { QueueName: byQueue(alarm.on.dlq).dlq.nodes.queue.name },
    });
  } else {
    const consumer = consumerFunctions[alarm.on.function as keyof typeof consumerFunctions];
    new aws.cloudwatch.MetricAlarm(`${id}Alarm`, {
      ...common,
      alarmDescription: `${alarm.on.function} failed (see its logs)`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      statistic: "Sum",
      dimensions: { FunctionName: consumer.nodes.function.name },
    });
  }
}

// NAT instances (stages whose NAT is `ec2`): each is its AZ's only way out (infra/network.ts).
const region = aws.getRegionOutput().region;
const partition = aws.getPartitionOutput().partition;
vpc.nodes.natInstances.apply((instances) =>
  instances.forEach((instance, i) => {
    for (const { metric, action } of natAlarms) {
      new aws.cloudwatch.MetricAlarm(`NatInstance${i + 1}${metric.split("_")[1]}Alarm`, {
        alarmDescription: `NAT instance ${i + 1} failed its ${metric} check: ${action}; the functions of its AZ cannot reach AWS services meanwhile`,
        namespace: "AWS/EC2",
        metricName: metric,
        statistic: "Maximum",
        dimensions: { InstanceId: instance.id },
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        period: natAlarmPeriodSeconds,
        evaluationPeriods: natAlarmEvaluationPeriods,
        treatMissingData: "missing",
        alarmActions: [
          alarmTopic.arn,
          $interpolate`arn:${partition}:automate:${region}:ec2:${action}`,
        ],
        okActions: [alarmTopic.arn],
      });
    }
  }),
);
