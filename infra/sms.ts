// SNS SMS preferences. They exist once per account and region, not per stage: only the stage named
// by PREGON_SMS_PREFERENCES_STAGE sets them (none unless named), so another stage's deploy or
// `sst dev` never overwrites them. Transactional: OTP codes and notifications, routed for delivery,
// not price.
//
// Retained on delete: the provider's delete resets every SMS attribute of the account (spend limit
// included), so neither `sst remove` nor unsetting PREGON_SMS_PREFERENCES_STAGE touches them; they
// stay as the last deploy set them. The delivery-status role is retained with them, so the
// preferences never point at a deleted role.
import { deployConfig } from "./config";

const { sms } = deployConfig;
const preferences = sms.preferences;

/** Lets SNS write SMS delivery receipts to CloudWatch Logs (PREGON_SMS_DELIVERY_STATUS_LOGS=true). */
const deliveryStatusRole = preferences?.deliveryStatusLogs
  ? new aws.iam.Role(
      "SmsDeliveryStatusRole",
      {
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
      },
      { retainOnDelete: true },
    )
  : undefined;

if (preferences) {
  new aws.sns.SmsPreferences(
    "SmsPreferences",
    {
      defaultSmsType: "Transactional",
      monthlySpendLimit: preferences.monthlySpendLimit,
      ...(sms.senderId && { defaultSenderId: sms.senderId }),
      ...(deliveryStatusRole && {
        deliveryStatusIamRoleArn: deliveryStatusRole.arn,
        deliveryStatusSuccessSamplingRate: "100",
      }),
    },
    { retainOnDelete: true },
  );
}
