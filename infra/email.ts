// The SES domain identity (Easy DKIM, 2048-bit) and its configuration set, whose events go to the
// feedback topic. With PREGON_EMAIL_DNS=route53 (the default) SST writes the DKIM CNAMEs and a DMARC
// record in the domain's Route 53 zone; with "manual" you add them (sst.config.ts outputs the tokens).
import { deployConfig } from "./config";
import { feedbackTopic } from "./messaging";

// SES of this account may publish to the feedback topic (the key admits SES too: infra/encryption.ts).
const topicPolicy = new aws.sns.TopicPolicy("FeedbackTopicPolicy", {
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

export const email = new sst.aws.Email(
  "Email",
  {
    sender: deployConfig.email.domain,
    ...(deployConfig.email.dns === "manual" && { dns: false as const }),
    events: [
      {
        name: "feedback",
        types: ["send", "reject", "bounce", "complaint", "delivery", "delivery-delay"],
        topic: feedbackTopic.arn,
      },
    ],
  },
  // SES checks that it may publish when the event destination is created.
  { dependsOn: [topicPolicy] },
);

/** The configuration set every send names (PREGON_SES_CONFIGURATION_SET on the email sender). */
export const configurationSetName = email.configSet;
/** The DKIM CNAMEs to add when the domain's DNS is not in Route 53. */
export const dkimTokens = email.nodes.identity.dkimSigningAttributes.apply((dkim) => dkim?.tokens);
