// CloudWatch alarms (infra/settings.ts `alarms`): any message in a DLQ, any error of a queue
// consumer. They notify the alarm topic; PREGON_ALARM_EMAIL subscribes an address to it (AWS sends
// a confirmation email first).
import { deployConfig } from "./config";
import { key } from "./encryption";
import { byQueue } from "./messaging";
import { consumerFunctions } from "./senders";
import { alarmPeriodSeconds, alarms } from "./settings";

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
