import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Store } from "./store";

/**
 * The Store port on S3. Apart from the template module (`@pregon/core/template/s3`), so that what
 * imports templates does not import the S3 client with them: a Lambda function loads it only when
 * it first reads or stores one.
 */
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
