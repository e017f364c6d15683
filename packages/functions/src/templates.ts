import { S3Client } from "@aws-sdk/client-s3";
import * as Template from "@pregon/core/template";
import { linkedTemplatesBucket } from "./config";
import { traced } from "./tracing";

/** The linked templates bucket as core's template store (the functions that render stored templates). */
export const s3Templates = () =>
  Template.s3Store(traced(new S3Client({})), linkedTemplatesBucket());
