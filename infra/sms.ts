// SNS SMS account settings (one set per account and region: a second stage in the same account
// shares them). Transactional: OTP codes and notifications, routed for delivery, not price.
import { deployConfig } from "./config";

const { sms } = deployConfig;

/** Lets SNS write SMS delivery receipts to CloudWatch Logs (PREGON_SMS_DELIVERY_STATUS_LOGS=true). */
const deliveryStatusRole = sms.deliveryStatusLogs
  ? new aws.iam.Role("SmsDeliveryStatusRole", {
      assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "sns.amazonaws.com" }),
      inlinePolicies: [
        {
          name: "logs",
          policy: aws.iam.getPolicyDocumentOutput({
            statements: [
              {
                actions: [
                  "logs:CreateLogGroup",
                  "logs:CreateLogStream",
                  "logs:PutLogEvents",
                  "logs:PutMetricFilter",
                  "logs:PutRetentionPolicy",
                ],
                resources: ["*"],
              },
            ],
          }).json,
        },
      ],
    })
  : undefined;

new aws.sns.SmsPreferences("SmsPreferences", {
  defaultSmsType: "Transactional",
  monthlySpendLimit: sms.monthlySpendLimit,
  ...(sms.senderId && { defaultSenderId: sms.senderId }),
  ...(deliveryStatusRole && {
    deliveryStatusIamRoleArn: deliveryStatusRole.arn,
    deliveryStatusSuccessSamplingRate: "100",
  }),
});
