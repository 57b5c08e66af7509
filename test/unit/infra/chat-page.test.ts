/**
 * The page as the stack publishes it, under Pulumi's mocks: the Content-Security-Policy CloudFront
 * adds (connections only to the stack's own origins), the other security headers, and what
 * `config.json` tells the page for each kind of sign-in; the OIDC settings the page needs, read and
 * checked.
 */
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import {
  API_ID,
  DISTRIBUTION_DOMAIN,
  REGION,
  type RegisteredResource,
  recordingMocks,
  resolved,
  TOKEN_URL_ID,
} from "../../support/pulumi-mocks";

const { mocks, resources } = recordingMocks();
const API_URL = `wss://${API_ID}.execute-api.${REGION}.amazonaws.com`;
const PAGE_URL = `https://${DISTRIBUTION_DOMAIN}/`;
/** A Cognito user pool with a hosted UI domain, as docs/security.md sets one up. */
const COGNITO = {
  mode: "oidc",
  issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
  audience: "1example23456789",
  nameClaim: "cognito:username",
  authorizationEndpoint: "https://my-chat.auth.us-east-1.amazoncognito.com/oauth2/authorize",
  tokenEndpoint: "https://my-chat.auth.us-east-1.amazoncognito.com/oauth2/token",
} as const;

// Prepare: a stack per kind of sign-in, under mocks; the program imported only once they are in place.
const setup = (async () => {
  await pulumi.runtime.setMocks(mocks, "websocket-chat", "test", false);
  const { ChatApi } = require("../../../infra/chat-api") as typeof import("../../../infra/chat-api");
  const base = { stageName: "dev", throttlingBurstLimit: 10, throttlingRateLimit: 5, logRetentionDays: 7 };
  const stacks = {
    guest: new ChatApi("guest", { ...base, auth: { mode: "guest" } }),
    oidc: new ChatApi("oidc", {
      ...base,
      auth: COGNITO,
      customDomain: {
        domainName: "chat.example.com",
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
      },
    }),
    open: new ChatApi("open", { ...base, auth: { mode: "none" } }),
  };
  for (const chat of Object.values(stacks)) {
    await resolved(pulumi.all([chat.url, chat.page?.config?.content, chat.page?.distribution.urn]));
  }
  return { ChatApi, base };
})();

function only(type: string, name: string): RegisteredResource {
  const matches = resources.filter((resource) => resource.type === type && resource.name === name);
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
  return matches[0] as RegisteredResource;
}

/** The stack's page policy, directive by directive. */
function policyOf(stack: string): Record<string, string[]> {
  const headers = only("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", `${stack}-page-headers`);
  const csp: string = headers.inputs.securityHeadersConfig.contentSecurityPolicy.contentSecurityPolicy;
  return Object.fromEntries(
    csp.split("; ").map((directive) => {
      const [name, ...sources] = directive.split(" ");
      return [name, sources];
    }),
  );
}

const configOf = (stack: string) =>
  JSON.parse(only("aws:s3/bucketObjectv2:BucketObjectv2", `${stack}-page-config.json`).inputs.content);

test("every page is served with its own headers: the policy, HTTPS for a year, no sniffing, never framed, no referrer", async (t) => {
  await setup;
  for (const stack of ["guest", "oidc", "open"]) {
    const headers = only("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", `${stack}-page-headers`);
    const distribution = only("aws:cloudfront/distribution:Distribution", `${stack}-page-cdn`);
    t.is(distribution.inputs.defaultCacheBehavior.responseHeadersPolicyId, headers.id, stack);
    t.like(headers.inputs.securityHeadersConfig, {
      contentSecurityPolicy: { override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: "DENY", override: true },
      referrerPolicy: { referrerPolicy: "no-referrer", override: true },
      strictTransportSecurity: { accessControlMaxAgeSec: 31_536_000, override: true },
    });
    t.like(policyOf(stack), {
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "style-src": ["'self'"],
      "img-src": ["'self'", "data:"],
      "object-src": ["'none'"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
      "frame-ancestors": ["'none'"],
    });
  }
});

test("the open chat's page may connect to its API alone", async (t) => {
  await setup;
  t.deepEqual(policyOf("open")["connect-src"], ["'self'", API_URL]);
  t.deepEqual(configOf("open"), { url: `${API_URL}/dev`, auth: "none" });
});

test("a guest page may connect to its API and the region's function URLs, and is told its own token URL", async (t) => {
  await setup;
  // The token URL's host exists only after the page's distribution (its CORS names the page):
  // the header names the region's function URLs, and the page narrows to config.json's.
  t.deepEqual(policyOf("guest")["connect-src"], ["'self'", API_URL, `https://*.lambda-url.${REGION}.on.aws`]);
  t.deepEqual(configOf("guest"), {
    url: `${API_URL}/dev`,
    auth: "guest",
    tokenUrl: `https://${TOKEN_URL_ID}.lambda-url.${REGION}.on.aws/`,
  });
});

test("an OIDC page may connect to its API under both its hosts and to the issuer's token endpoint, and is told how to sign in", async (t) => {
  await setup;
  t.deepEqual(policyOf("oidc")["connect-src"], [
    "'self'",
    API_URL,
    "wss://chat.example.com",
    "https://my-chat.auth.us-east-1.amazoncognito.com",
  ]);
  t.deepEqual(configOf("oidc"), {
    url: "wss://chat.example.com",
    urls: [`${API_URL}/dev`],
    auth: "oidc",
    oidc: {
      issuer: COGNITO.issuer,
      clientId: COGNITO.audience,
      authorizationEndpoint: COGNITO.authorizationEndpoint,
      tokenEndpoint: COGNITO.tokenEndpoint,
      scope: "openid profile",
      nameClaim: "cognito:username",
      // The address Cognito's app client must list as a callback URL.
      redirectUri: PAGE_URL,
    },
  });
});

test("an OIDC stack without the issuer's endpoints still authorizes tokens; its page is told no way to sign in", async (t) => {
  const { ChatApi, base } = await setup;
  const { authorizationEndpoint, tokenEndpoint, ...authorizerOnly } = COGNITO;
  const chat = new ChatApi("bare", { ...base, auth: authorizerOnly });
  await resolved(pulumi.all([chat.url, chat.page?.config?.content]));
  t.deepEqual(configOf("bare"), { url: `${API_URL}/dev`, auth: "oidc" });
  t.deepEqual(policyOf("bare")["connect-src"], ["'self'", API_URL]);
});

const invalid: Array<[string, object, RegExp]> = [
  [
    "an authorize endpoint without a token endpoint",
    { ...COGNITO, tokenEndpoint: undefined },
    /oidcAuthorizationEndpoint and oidcTokenEndpoint go together/,
  ],
  [
    "a token endpoint over http",
    { ...COGNITO, tokenEndpoint: "http://my-chat.auth.us-east-1.amazoncognito.com/oauth2/token" },
    /oidcTokenEndpoint must be an https URL/,
  ],
  ["scopes without openid", { ...COGNITO, scope: "profile email" }, /oidcScope must include openid/],
];
for (const [index, [what, auth, message]] of invalid.entries()) {
  test(`the page's sign-in refused before anything is created: ${what}`, async (t) => {
    const { ChatApi, base } = await setup;
    t.throws(() => new ChatApi(`bad${index}`, { ...base, auth: auth as never }), { message });
  });
}

test("the stack's settings carry the page's sign-in: oidcAuthorizationEndpoint, oidcTokenEndpoint, oidcScope", async (t) => {
  await setup;
  const { readStackSettings } =
    require("../../../infra/stack-settings") as typeof import("../../../infra/stack-settings");
  pulumi.runtime.setAllConfig({
    "websocket-chat:auth": "oidc",
    "websocket-chat:oidcIssuer": COGNITO.issuer,
    "websocket-chat:oidcAudience": COGNITO.audience,
    "websocket-chat:oidcAuthorizationEndpoint": COGNITO.authorizationEndpoint,
    "websocket-chat:oidcTokenEndpoint": COGNITO.tokenEndpoint,
    "websocket-chat:oidcScope": "openid",
  });
  t.like(readStackSettings().auth, {
    mode: "oidc",
    authorizationEndpoint: COGNITO.authorizationEndpoint,
    tokenEndpoint: COGNITO.tokenEndpoint,
    scope: "openid",
  });
});
