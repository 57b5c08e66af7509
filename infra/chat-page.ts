/**
 * The chat page in the cloud: the files of `page/` in a private S3 bucket behind CloudFront, with the
 * stack's `config.json` and a Content-Security-Policy that lets the page connect to the stack alone.
 */
import { readdirSync } from "node:fs";
import { extname, join } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleClient, CLIENT_MODULE } from "../client/bundle";
import type { AuthSettings } from "../functions/auth/auth-config";
import { type PageOidcConfig, pageContentSecurityPolicy } from "../functions/auth/page-config";

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

/** One object of the published page: a file of {@link PAGE_DIR}, or the client library it loads, built. */
export interface PageObject {
  key: string;
  contentType: string;
  source: { file: string } | { text: Promise<string> };
}

/**
 * The objects the page is published as: each file of {@link PAGE_DIR}, with its content type, and
 * the client library as the local gateway serves it (`client/bundle.ts`).
 */
export function pageObjects(): PageObject[] {
  const files = readdirSync(PAGE_DIR)
    .sort()
    .map((file) => {
      const contentType = CONTENT_TYPES[extname(file)];
      if (!contentType)
        throw new Error(`the page's ${file} has no known content type: add its extension to CONTENT_TYPES`);
      return { key: file, contentType, source: { file: join(PAGE_DIR, file) } };
    });
  const library = {
    key: CLIENT_MODULE,
    contentType: CONTENT_TYPES[".mjs"] as string,
    source: { text: bundleClient() },
  };
  return [...files, library];
}

/** What `config.json` tells the page: where it may connect, and how to sign in. */
interface PageConfig {
  /** The WebSocket URL the page opens. */
  url: pulumi.Input<string>;
  /** Others a link (`?url=`) may choose instead: the API's own address beside a custom domain. */
  urls?: pulumi.Input<string>[];
  auth: string;
  /** Guests: the token endpoint. */
  tokenUrl?: pulumi.Input<string>;
  /** OIDC: the issuer's sign-in; the page's address is the redirect URI. */
  oidc?: PageOidcConfig;
}

interface ChatPageArgs {
  /** The origins the page may connect to (its policy's `connect-src`): {@link pageConnectSources}. */
  connectSources: pulumi.Input<string>[];
}

/**
 * Where the page may connect: the API under each of its hosts, and where the page gets tokens.
 * A guest's token endpoint is a function URL whose host is known only once it exists, and it is
 * made after the page (its CORS names the page's origin, this distribution's): the policy names the
 * region's function URLs, and the page narrows that to its own endpoint once it has read config.json.
 */
export function pageConnectSources(args: {
  api: aws.apigatewayv2.Api;
  customDomainName?: string;
  auth?: AuthSettings;
}): pulumi.Input<string>[] {
  const { api, customDomainName, auth } = args;
  const sources: pulumi.Input<string>[] = [api.apiEndpoint];
  if (customDomainName) sources.push(`wss://${customDomainName}`);
  if (auth?.mode === "guest") sources.push(pulumi.interpolate`https://*.lambda-url.${api.region}.on.aws`);
  if (auth?.mode === "oidc" && auth.tokenEndpoint) sources.push(new URL(auth.tokenEndpoint).origin);
  return sources;
}

/**
 * The chat page in the cloud: a private bucket (no public access, objects owned by the bucket)
 * that only this CloudFront distribution may read, through origin access control, served over
 * HTTPS only with the page's security headers. `publishConfig` adds the `config.json` that points
 * the page at the stack's API.
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
    args: ChatPageArgs,
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
    for (const object of pageObjects()) this.putObject(object);

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
    // Every path alike but for how long CloudFront keeps it.
    const behavior = {
      targetOriginId: "page",
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD"],
      cachedMethods: ["GET", "HEAD"],
      compress: true,
      responseHeadersPolicyId: this.createHeadersPolicy(args.connectSources).id,
    };
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
        defaultCacheBehavior: { ...behavior, cachePolicyId: CACHING_OPTIMIZED },
        // The stack's settings for the page: a deploy shows at the next load, never a cached one.
        orderedCacheBehaviors: [{ ...behavior, pathPattern: "/config.json", cachePolicyId: CACHING_DISABLED }],
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

  /**
   * `config.json`, read by the page on every load, cached nowhere (CloudFront: CachingDisabled;
   * browsers: no-cache), so a deploy shows at once. An issuer sends the browser back to the page's
   * address, the redirect URI registered with it.
   */
  publishConfig(config: PageConfig): aws.s3.BucketObjectv2 {
    const content = config.oidc ? { ...config, oidc: { ...config.oidc, redirectUri: this.pageUrl } } : config;
    this.config = new aws.s3.BucketObjectv2(
      `${this.name}-config.json`,
      {
        bucket: this.bucket.id,
        key: "config.json",
        content: pulumi.jsonStringify(content),
        contentType: CONTENT_TYPES[".json"],
        cacheControl: "no-cache",
      },
      { parent: this },
    );
    return this.config;
  }

  /**
   * The page's headers, in place of CloudFront's managed SecurityHeadersPolicy, which has no
   * Content-Security-Policy: connections only to `connectSources`, no inline script, HTTPS only for
   * a year, no MIME sniffing, never framed, no referrer (an issuer's code is in the address once).
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html
   */
  private createHeadersPolicy(connectSources: pulumi.Input<string>[]): aws.cloudfront.ResponseHeadersPolicy {
    return new aws.cloudfront.ResponseHeadersPolicy(
      `${this.name}-headers`,
      {
        comment: `${this.name}: the chat page's security headers`,
        securityHeadersConfig: {
          contentSecurityPolicy: {
            contentSecurityPolicy: pulumi.all(connectSources).apply(pageContentSecurityPolicy),
            override: true,
          },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: "DENY", override: true },
          referrerPolicy: { referrerPolicy: "no-referrer", override: true },
          strictTransportSecurity: { accessControlMaxAgeSec: 31_536_000, override: true },
        },
      },
      { parent: this },
    );
  }

  private putObject({ key, contentType, source }: PageObject): aws.s3.BucketObjectv2 {
    return new aws.s3.BucketObjectv2(
      `${this.name}-${key}`,
      {
        bucket: this.bucket.id,
        key,
        source:
          "file" in source
            ? new pulumi.asset.FileAsset(source.file)
            : pulumi.output(source.text).apply((text) => new pulumi.asset.StringAsset(text)),
        contentType,
        // A minute in browsers and at the edge: a deploy's page is everywhere a minute later.
        cacheControl: "public, max-age=60",
      },
      { parent: this },
    );
  }
}
