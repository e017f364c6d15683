// The API reference's script (infra/settings.ts `docsScript`), which `/docs` loads: one object in a
// private bucket, served by a CloudFront distribution of the stage's own.
//
// The bucket stays private on every account, including those whose S3 Block Public Access is on:
// SST's Bucket blocks public access in full unless `access` is "public", and "cloudfront" only adds
// a bucket policy statement letting CloudFront's service principal read objects. The distribution
// signs its requests with origin access control (SigV4), which such a statement admits. The object
// is encrypted with S3's own key (SSE-S3), not the data key: CloudFront could read an SSE-KMS object
// only through a key policy granting it the data key.
//
// The bucket and its distribution hold a file from node_modules, rebuilt by any deploy: removed with
// the stage, even where the stage retains its data (as SST's StaticSite does with its own).
import { join } from "node:path";
import { docsScript } from "./settings";

const bucket = new sst.aws.Bucket(
  "DocsAssets",
  // No CORS rule: a <script> without `crossorigin` is not a CORS request.
  { access: "cloudfront", cors: false },
  { retainOnDelete: false },
);

new aws.s3.BucketObjectv2("DocsScript", {
  bucket: bucket.name,
  key: docsScript.key,
  source: new $util.asset.FileAsset(join($cli.paths.root, docsScript.file)),
  contentType: docsScript.contentType,
  cacheControl: docsScript.cacheControl,
});

const access = new aws.cloudfront.OriginAccessControl("DocsAssetsAccess", {
  // Unique in the account: one per stage.
  name: `${$app.name}-${$app.stage}-docs-assets`.slice(0, 64),
  description: "CloudFront reads the API reference's script from its private bucket",
  originAccessControlOriginType: "s3",
  signingBehavior: "always",
  signingProtocol: "sigv4",
});

const origin = "docs-assets";
const distribution = new aws.cloudfront.Distribution(
  "DocsAssetsCdn",
  {
    enabled: true,
    comment: `${$app.name} ${$app.stage}: the API reference's script`,
    origins: [
      {
        originId: origin,
        domainName: bucket.nodes.bucket.bucketRegionalDomainName,
        originAccessControlId: access.id,
      },
    ],
    defaultCacheBehavior: {
      targetOriginId: origin,
      // CloudFront asks an S3 origin in the viewer's protocol: HTTPS only, as the bucket demands.
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD"],
      cachedMethods: ["GET", "HEAD"],
      compress: true,
      cachePolicyId: docsScript.cachePolicyId,
    },
    priceClass: docsScript.priceClass,
    httpVersion: "http2and3",
    isIpv6Enabled: true,
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: { cloudfrontDefaultCertificate: true },
  },
  { retainOnDelete: false },
);

/** What the http function's /docs loads the script from (PREGON_DOCS_ORIGIN). */
export const docsOrigin = $interpolate`https://${distribution.domainName}`;
