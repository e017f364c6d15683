import { S3Client } from "@aws-sdk/client-s3";
import { s3Store } from "@pregon/core/template/s3";
import { traced } from "./tracing";

/** The templates store on S3, through a client of its own (`s3Templates` imports this on first use). */
export const s3Templates = (bucket: string) => s3Store(traced(new S3Client({})), bucket);
