// The customer managed key that encrypts SNS, SQS and S3 data at rest, and in a passive stage its
// replica database's storage (infra/database.ts).
// SNS (encrypting topics, delivering to encrypted queues), SES (publishing events to the feedback
// topic) and CloudWatch (publishing alarms) act as services, so the key policy must admit them;
// functions get kms:Decrypt and kms:GenerateDataKey through IAM (infra/functions.ts), which the
// account root statement enables.
import { keyServiceActions, keyServicePrincipals } from "./settings";

const account = aws.getCallerIdentityOutput().accountId;
const partition = aws.getPartitionOutput().partition;

export const key = new aws.kms.Key("DataKey", {
  description: `Pregón ${$app.stage}: SNS topics, SQS queues and the templates bucket at rest`,
  enableKeyRotation: true,
  deletionWindowInDays: 30,
  policy: aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        sid: "AccountAdministersAndGrantsThroughIam",
        effect: "Allow",
        principals: [
          { type: "AWS", identifiers: [$interpolate`arn:${partition}:iam::${account}:root`] },
        ],
        actions: ["kms:*"],
        resources: ["*"],
      },
      {
        sid: "ServicesOfThisAccountEncrypt",
        effect: "Allow",
        principals: [{ type: "Service", identifiers: [...keyServicePrincipals] }],
        actions: [...keyServiceActions],
        resources: ["*"],
        conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account] }],
      },
    ],
  }).json,
});

new aws.kms.Alias("DataKeyAlias", {
  name: `alias/${$app.name}-${$app.stage}-data`,
  targetKeyId: key.keyId,
});
