// SES. The domain identity exists once per account and region, so one stage owns it:
// PREGON_EMAIL_IDENTITY_STAGE (production by default) creates it with Easy DKIM (2048-bit) and,
// with PREGON_EMAIL_DNS=route53, its three DKIM records in the domain's Route 53 zone, then waits
// until SES has verified it. A DMARC record is written only when PREGON_EMAIL_DMARC asks for one.
// Every other stage references the identity (sst.aws.Email.get: read, never created or deleted).
//
// Not `new sst.aws.Email` in the owning stage: SST 4.17's component always writes
// `_dmarc.DOMAIN` without overwrite (failing on any domain that already has DMARC) and always waits
// for verification (45 minutes, then failure, when you add the records by hand).
//
// Each stage has its own configuration set, whose events go to its own feedback topic; its sends
// name it (PREGON_SES_CONFIGURATION_SET), which takes precedence over the identity's default set.
import { deployConfig } from "./config";
import { feedbackTopic } from "./messaging";
import { feedbackEventTypes } from "./settings";

const { email } = deployConfig;

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

const configurationSet = new aws.sesv2.ConfigurationSet("EmailConfigurationSet", {
  configurationSetName: `${$app.name}-${$app.stage}-email`.toLowerCase(),
});

new aws.sesv2.ConfigurationSetEventDestination(
  "EmailFeedbackDestination",
  {
    configurationSetName: configurationSet.configurationSetName,
    eventDestinationName: "feedback",
    eventDestination: {
      enabled: true,
      matchingEventTypes: feedbackEventTypes.map((type) => type.toUpperCase().replaceAll("-", "_")),
      snsDestination: { topicArn: feedbackTopic.arn },
    },
  },
  // SES checks that it may publish when the event destination is created.
  { dependsOn: [topicPolicy] },
);

/** The identity, its DKIM records where SST writes them, DMARC if asked, and the wait for SES. */
function createIdentity() {
  const identity = new aws.sesv2.EmailIdentity("EmailDomainIdentity", {
    emailIdentity: email.domain,
    // The set sends fall back on when they name none (and what sst.aws.Email.get reads).
    configurationSetName: configurationSet.configurationSetName,
    dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" },
  });
  if (email.dns === "manual") return identity;

  const dns = sst.aws.dns();
  // Easy DKIM always gives three tokens.
  const dkim = [0, 1, 2].map((i) => {
    const token = identity.dkimSigningAttributes.apply((attributes) => attributes.tokens[i]);
    return dns.createRecord(
      `EmailDkim${i}`,
      {
        type: "CNAME",
        name: $interpolate`${token}._domainkey.${email.domain}`,
        value: $interpolate`${token}.dkim.amazonses.com`,
      },
      {},
    );
  });
  if (email.dmarc) {
    dns.createRecord(
      "EmailDmarc",
      { type: "TXT", name: `_dmarc.${email.domain}`, value: email.dmarc },
      {},
    );
  }
  new aws.ses.DomainIdentityVerification(
    "EmailVerification",
    { domain: identity.emailIdentity },
    { dependsOn: dkim },
  );
  return identity;
}

const identity = email.ownsIdentity
  ? createIdentity()
  : sst.aws.Email.get("Email", email.domain).nodes.identity;

/** The configuration set every send names (PREGON_SES_CONFIGURATION_SET on the email sender). */
export const configurationSetName = configurationSet.configurationSetName;
/** What the email sender may send through (`ses:SendEmail` is checked against both). */
export const identityArn = identity.arn;
export const configurationSetArn = configurationSet.arn;
/** The DKIM CNAMEs to add when the domain's DNS is not in Route 53 (owning stage only). */
export const dkimTokens = email.ownsIdentity
  ? identity.dkimSigningAttributes.apply((attributes) => attributes.tokens)
  : undefined;
