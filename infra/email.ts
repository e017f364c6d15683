import { declared } from "./messaging";

const feedbackTopic = declared.find(({ pipeline }) => pipeline.topic === "feedback")!.topic;

/** The configuration set every send names: its events go to the feedback topic. */
export const configurationSet = new aws.sesv2.ConfigurationSet("EmailEvents", {
  configurationSetName: `${$app.name}-${$app.stage}`,
});

// SES may publish to the feedback topic, for this account only.
new aws.sns.TopicPolicy("FeedbackTopicPolicy", {
  arn: feedbackTopic.arn,
  policy: aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        effect: "Allow",
        actions: ["sns:Publish"],
        resources: [feedbackTopic.arn],
        principals: [{ type: "Service", identifiers: ["ses.amazonaws.com"] }],
        conditions: [
          {
            test: "StringEquals",
            variable: "aws:SourceAccount",
            values: [aws.getCallerIdentityOutput().accountId],
          },
        ],
      },
    ],
  }).json,
});

new aws.sesv2.ConfigurationSetEventDestination("EmailFeedback", {
  configurationSetName: configurationSet.configurationSetName,
  eventDestinationName: "feedback",
  eventDestination: {
    enabled: true,
    matchingEventTypes: ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY"],
    snsDestination: { topicArn: feedbackTopic.arn },
  },
});
