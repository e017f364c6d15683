// What linking a component gives a function: its name, ARN or URL (`Resource.X`), and no IAM
// permission. SST's own links grant `sns:*` on a topic, `sqs:*` on a queue and `s3:*` on a bucket
// and its objects; every function's
// permissions are stated instead, action by action (infra/settings.ts `permissions`, resolved in
// infra/functions.ts). Run before any function is declared: a link is built when it is used.
sst.Linkable.wrap(sst.aws.SnsTopic, (topic) => ({ properties: { arn: topic.arn } }));
sst.Linkable.wrap(sst.aws.Bucket, (bucket) => ({ properties: { name: bucket.name } }));
sst.Linkable.wrap(sst.aws.Queue, (queue) => ({ properties: { url: queue.url } }));

export {};
