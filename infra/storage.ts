// Message templates (S3). Private: SST's Bucket blocks public access unless `access` is set (it is
// not) and denies requests without TLS; no CORS rule (SST's default admits every origin), as only
// the functions read it. Versioned in every stage (S3 replication needs it at both ends), and
// encrypted with the data key (SSE-KMS).
import { deployConfig } from "./config";
import { key } from "./encryption";
import { encryption } from "./settings";

export const templates = new sst.aws.Bucket("Templates", {
  versioning: true,
  cors: false,
});

new aws.s3.BucketServerSideEncryptionConfiguration("TemplatesEncryption", {
  bucket: templates.name,
  rules: [key.arn.apply((arn) => encryption.bucket(arn))],
});

// The primary of a failover pair copies every template version to the passive stage's bucket, in
// its region and under its key, so a promoted stage renders the templates the replica database
// names. Deletes are not replicated: nothing deletes a version, and a mistaken delete here must not
// empty the other region.
const replica = deployConfig.templatesReplica;
/** The role may use a key only through S3 in the key's own region. */
const throughS3 = (region: string) => [
  { test: "StringEquals", variable: "kms:ViaService", values: [`s3.${region}.amazonaws.com`] },
];
if (replica) {
  const replicationRole = new aws.iam.Role("TemplatesReplicationRole", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "s3.amazonaws.com" }),
    inlinePolicies: [
      {
        name: "replicate",
        policy: aws.iam.getPolicyDocumentOutput({
          statements: [
            {
              actions: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
              resources: [templates.arn],
            },
            {
              actions: [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
              ],
              resources: [$interpolate`${templates.arn}/*`],
            },
            {
              actions: ["s3:ReplicateObject", "s3:ReplicateTags"],
              resources: [`${replica.bucketArn}/*`],
            },
            {
              actions: ["kms:Decrypt"],
              resources: [key.arn],
              conditions: throughS3(deployConfig.region),
            },
            {
              actions: ["kms:Encrypt"],
              resources: [replica.keyArn],
              conditions: throughS3(replica.region),
            },
          ],
        }).json,
      },
    ],
  });

  new aws.s3.BucketReplicationConfig(
    "TemplatesReplication",
    {
      bucket: templates.name,
      role: replicationRole.arn,
      rules: [
        {
          id: "every-template",
          status: "Enabled",
          // An empty filter: every object (and the current schema, which needs the line below).
          filter: {},
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: replica.bucketArn,
            encryptionConfiguration: { replicaKmsKeyId: replica.keyArn },
          },
        },
      ],
    },
    // S3 refuses a replication configuration on a bucket whose versioning is not yet enabled.
    { dependsOn: [templates] },
  );
}
