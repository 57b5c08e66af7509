import { readdirSync } from "node:fs";
import { extname, join } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The page's files: the very ones the local server serves. */
export const PAGE_DIR = join(__dirname, "..", "page");

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

// CloudFront's managed policies: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";
// TTLs of 0: CachingOptimized keeps even a `no-cache` object its minimum TTL, a second
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html).
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html
const SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03";

/** The objects the page is published as: each file of {@link PAGE_DIR}, with its content type. */
export function pageFiles(): { file: string; contentType: string }[] {
  return readdirSync(PAGE_DIR)
    .sort()
    .map((file) => {
      const contentType = CONTENT_TYPES[extname(file)];
      if (!contentType)
        throw new Error(`the page's ${file} has no known content type: add its extension to CONTENT_TYPES`);
      return { file, contentType };
    });
}

/** What `config.json` tells the page: where to connect, and how to sign in. */
export interface PageConfig {
  url: pulumi.Input<string>;
  auth: string;
  tokenUrl?: pulumi.Input<string>;
}

/**
 * The chat page in the cloud: a private bucket (no public access, objects owned by the bucket)
 * that only this CloudFront distribution may read, through origin access control, served over
 * HTTPS only. `publishConfig` adds the `config.json` that points the page at the stack's API.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
 */
export class ChatPage extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly distribution: aws.cloudfront.Distribution;
  /** `https://{distribution}.cloudfront.net`: the page's origin (for CORS). */
  readonly origin: pulumi.Output<string>;
  /** Where people chat. */
  readonly pageUrl: pulumi.Output<string>;
  /** `config.json`, once published. */
  config?: aws.s3.BucketObjectv2;

  constructor(
    private readonly name: string,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("websocket-chat:index:ChatPage", name, {}, opts);
    const parent = this;
    // The page is build output, redeployed whole: a destroy may empty the bucket.
    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: true }, { parent });
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: this.bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent },
    );
    for (const { file, contentType } of pageFiles()) this.putObject(file, contentType);

    const accessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        description: `${name}: CloudFront signs its reads of the page's bucket`,
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      { parent },
    );
    this.distribution = new aws.cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: `${name}: the chat page`,
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        priceClass: "PriceClass_100",
        origins: [
          {
            originId: "page",
            domainName: this.bucket.bucketRegionalDomainName,
            originAccessControlId: accessControl.id,
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "page",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: CACHING_OPTIMIZED,
          responseHeadersPolicyId: SECURITY_HEADERS,
        },
        // The stack's settings for the page: a deploy shows at the next load, never a cached one.
        orderedCacheBehaviors: [
          {
            pathPattern: "/config.json",
            targetOriginId: "page",
            viewerProtocolPolicy: "redirect-to-https",
            allowedMethods: ["GET", "HEAD"],
            cachedMethods: ["GET", "HEAD"],
            compress: true,
            cachePolicyId: CACHING_DISABLED,
            responseHeadersPolicyId: SECURITY_HEADERS,
          },
        ],
        restrictions: { geoRestriction: { restrictionType: "none" } },
        // The default certificate fixes the minimum TLS version itself (a custom one would set it).
        viewerCertificate: { cloudfrontDefaultCertificate: true },
      },
      { parent },
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: this.bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudFrontReadsThePage",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: "s3:GetObject",
              Resource: pulumi.interpolate`${this.bucket.arn}/*`,
              Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
            },
          ],
        }),
      },
      { parent, dependsOn: [publicAccess] },
    );
    this.origin = pulumi.interpolate`https://${this.distribution.domainName}`;
    this.pageUrl = pulumi.interpolate`${this.origin}/`;
    this.registerOutputs({ pageUrl: this.pageUrl });
  }

  /** `config.json`, read by the page on every load, cached nowhere (CloudFront: CachingDisabled; browsers: no-cache). */
  publishConfig(config: PageConfig): aws.s3.BucketObjectv2 {
    this.config = new aws.s3.BucketObjectv2(
      `${this.name}-config.json`,
      {
        bucket: this.bucket.id,
        key: "config.json",
        content: pulumi.jsonStringify(config),
        contentType: CONTENT_TYPES[".json"],
        cacheControl: "no-cache",
      },
      { parent: this },
    );
    return this.config;
  }

  private putObject(file: string, contentType: string): aws.s3.BucketObjectv2 {
    return new aws.s3.BucketObjectv2(
      `${this.name}-${file}`,
      {
        bucket: this.bucket.id,
        key: file,
        source: new pulumi.asset.FileAsset(join(PAGE_DIR, file)),
        contentType,
        // A minute in browsers and at the edge: a deploy's page is everywhere a minute later.
        cacheControl: "public, max-age=60",
      },
      { parent: this },
    );
  }
}
