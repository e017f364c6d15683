// Message templates (S3). Private: SST's Bucket blocks public access unless `access` is set (it is
// not) and denies requests without TLS; no CORS rule (SST's default admits every origin), as only
// the functions read it. Versioned, and encrypted with the data key (SSE-KMS).
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
