// Message templates (S3). Private by default: SST's Bucket blocks public
// access unless `access` is set, and nothing here sets it.
export const templates = new sst.aws.Bucket("Templates", {
  versioning: true,
});
