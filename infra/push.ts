// Mobile push: SNS platform applications, created only for the platforms configured
// (docs/deploy.md). Their credentials are SST secrets, set before the deploy that enables them.
import { deployConfig } from "./config";

const { apns, fcm } = deployConfig.push;

/** APNs token authentication: the .p8 signing key; team, key and bundle ids from the config. */
const apnsApplication = apns
  ? new aws.sns.PlatformApplication("ApnsApplication", {
      name: `${$app.name}-${$app.stage}-apns`,
      platform: apns.sandbox ? "APNS_SANDBOX" : "APNS",
      platformCredential: new sst.Secret("ApnsSigningKey").value,
      platformPrincipal: apns.keyId,
      applePlatformTeamId: apns.teamId,
      applePlatformBundleId: apns.bundleId,
    })
  : undefined;

/** FCM HTTP v1: the service account's JSON key. */
const fcmApplication = fcm
  ? new aws.sns.PlatformApplication("FcmApplication", {
      name: `${$app.name}-${$app.stage}-fcm`,
      platform: "GCM",
      platformCredential: new sst.Secret("FcmServiceAccount").value,
    })
  : undefined;

export const pushApplicationArns = {
  apns: apnsApplication?.arn,
  fcm: fcmApplication?.arn,
};

/** The applications and the endpoints (devices) under them. */
export const pushResources = [apnsApplication, fcmApplication].flatMap((application) =>
  application
    ? [application.arn, application.arn.apply((arn) => `${arn.replace(":app/", ":endpoint/")}/*`)]
    : [],
);
