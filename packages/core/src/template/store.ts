import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

/** Port: where template versions live, one immutable object each. */
export interface Store {
  put(objectKey: string, body: string): Promise<void>;
  get(objectKey: string): Promise<string>;
}

/** The Store port on S3. */
export function s3Store(s3: S3Client, bucket: string): Store {
  return {
    async put(objectKey, body) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: objectKey,
          Body: body,
          ContentType: "application/json",
        }),
      );
    },
    async get(objectKey) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
      return object.Body!.transformToString();
    },
  };
}
