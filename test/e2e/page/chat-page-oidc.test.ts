/**
 * The page's OIDC sign-in, the authorization-code flow with PKCE, `state` and `nonce`, against a
 * stand-in issuer answering as Cognito's hosted UI does (`test/support/oidc-issuer.ts`), through a
 * local gateway whose `$connect` authorizer verifies the issuer's ID tokens. An ID token used to be
 * taken from `#id_token=` without state or nonce: a link could sign the reader in as someone else.
 */
import anyTest, { type TestFn } from "ava";
import type { Browser, Page } from "playwright-core";
import { startLocalGateway } from "../../../local/express-server";
import { launchBrowser, say, shownMessages } from "../../support/browser";
import { pkceChallenge, type StandInIssuer, startStandInIssuer } from "../../support/oidc-issuer";
import { connect } from "../../support/websocket";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

type Context = { teardown(fn: () => Promise<void>): void; context: { browser: Browser } };

/** An issuer, a gateway that trusts it (its page told to sign in there), and a fresh browser tab. */
async function signInSetup(t: Context) {
  const issuer = await startStandInIssuer(t);
  const authorizations: number[] = [];
  const gw = await startLocalGateway({
    port: 0,
    log: (line) => {
      const status = /\$connect authorizer .*status=(\d+)/.exec(line)?.[1];
      if (status) authorizations.push(Number(status));
    },
    auth: {
      mode: "oidc",
      issuer: issuer.issuer,
      audience: issuer.clientId,
      authorizationEndpoint: issuer.authorizationEndpoint,
      tokenEndpoint: issuer.tokenEndpoint,
    },
  });
  t.teardown(() => gw.close());
  const pageOrigin = `http://127.0.0.1:${gw.port}`;
  // The client's callback URL, as registered with Cognito: the page's origin and `/`.
  issuer.redirectUris.push(`${pageOrigin}/`);
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  return { issuer, gw, page, pageOrigin, authorizations };
}

const tokenRequests = (issuer: StandInIssuer) => issuer.requests.filter((request) => request.path === "/oauth2/token");
const statusText = (page: Page) => page.locator("#status-text").textContent();

test("signing in: to the issuer with S256, state and nonce, back with a code exchanged for an ID token, then chatting under the verified name", async (t) => {
  const { issuer, gw, page, pageOrigin, authorizations } = await signInSetup(t);
  await page.goto(`${pageOrigin}/?room=kitchen`);
  await page.locator("#status[data-state=idle]", { hasText: "Sign in to join the chat" }).waitFor();
  t.is(gw.connectionCount(), 0, "no token, no connection");

  await page.click("#sign-in");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada · #kitchen" }).waitFor();
  t.is(new URL(page.url()).search, "?room=kitchen", "the code and state are out of the address, the room is back");
  t.true(await page.locator("#sign-in").isHidden());

  const [authorize] = issuer.requests.filter((request) => request.path === "/oauth2/authorize");
  t.like(authorize?.params, {
    response_type: "code",
    client_id: issuer.clientId,
    redirect_uri: `${pageOrigin}/`,
    scope: "openid profile",
    code_challenge_method: "S256",
  });
  for (const name of ["state", "nonce", "code_challenge"]) t.regex(authorize?.params[name] ?? "", /^[\w-]{43}$/);
  const [exchange] = tokenRequests(issuer);
  t.like(exchange?.params, {
    grant_type: "authorization_code",
    client_id: issuer.clientId,
    redirect_uri: `${pageOrigin}/`,
  });
  // The verifier matched the challenge sent before (the issuer refuses the code otherwise).
  t.is(pkceChallenge(exchange?.params.code_verifier ?? ""), authorize?.params.code_challenge ?? "");

  await say(page, "signed in for real");
  await page.locator(".message.own", { hasText: "signed in for real" }).waitFor();
  t.like((await shownMessages(page))[0], { sender: "Ada", text: "signed in for real", own: true });
  t.deepEqual(authorizations, [200]);
});

test("an answer whose state the page did not send is refused before its code is exchanged (login CSRF)", async (t) => {
  const { issuer, gw, page, pageOrigin, authorizations } = await signInSetup(t);
  // Mallory signed in with her own account elsewhere and stopped before the redirect: her code is
  // good, and a link hands it to Ada's page.
  issuer.user = { sub: "user-mallory-0002", name: "Mallory" };
  const code = issuer.issueCode({
    clientId: issuer.clientId,
    redirectUri: `${pageOrigin}/`,
    codeChallenge: pkceChallenge("mallory's own verifier, which the page cannot know"),
    nonce: "mallory's nonce",
  });
  const link = `${pageOrigin}/?code=${code}&state=mallorys-state`;

  // With no sign-in under way in the tab...
  await page.goto(link);
  await page.locator("#status[data-state=idle]", { hasText: "Sign-in refused" }).waitFor();
  t.regex((await statusText(page)) ?? "", /a state this page did not send/);
  t.is(new URL(page.url()).search, "", "the answer is out of the address");

  // ...and with one under way: Ada went to the issuer, and the link came before she signed in.
  issuer.hold = true;
  await page.click("#sign-in");
  await page.waitForURL((url) => url.pathname === "/oauth2/authorize");
  await page.goto(link);
  await page.locator("#status[data-state=idle]", { hasText: "Sign-in refused" }).waitFor();

  t.deepEqual(tokenRequests(issuer), [], "the code was never exchanged");
  t.deepEqual(authorizations, [], "nothing reached the authorizer");
  t.is(gw.connectionCount(), 0);
  t.true(await page.locator("#sign-in").isVisible(), "Ada can still sign in as herself");
});

test("an ID token without this sign-in's nonce is refused, though the authorizer would admit it", async (t) => {
  const { issuer, gw, page, pageOrigin, authorizations } = await signInSetup(t);
  issuer.tamper = { nonce: "the nonce of another sign-in" };
  await page.goto(`${pageOrigin}/`);
  await page.click("#sign-in");
  await page.locator("#status[data-state=idle]", { hasText: "Sign-in refused" }).waitFor();
  t.is(
    await statusText(page),
    "Sign-in refused: the ID token's nonce is not the one this sign-in sent: use Sign in (" +
      new URL(issuer.authorizationEndpoint).host +
      ")",
  );
  t.is(tokenRequests(issuer).length, 1, "the code was exchanged, and its ID token refused");
  t.deepEqual(authorizations, [], "the page offered it to no one");
  t.is(gw.connectionCount(), 0);

  // The token itself is good: presented directly, the authorizer admits it. The nonce is the page's check.
  const token = await issuer.idToken({ nonce: "the nonce of another sign-in" });
  const direct = await connect(`${gw.url}?token=${encodeURIComponent(token)}`);
  t.teardown(async () => direct.socket.close());
  t.deepEqual(authorizations, [200]);
});

test("an ID token in the address's fragment (the implicit flow) is not taken", async (t) => {
  const { issuer, gw, page, pageOrigin, authorizations } = await signInSetup(t);
  const token = await issuer.idToken();
  await page.goto(`${pageOrigin}/#id_token=${token}`);
  await page.locator("#status[data-state=idle]", { hasText: "Sign in to join the chat" }).waitFor();
  t.deepEqual(authorizations, []);
  t.is(gw.connectionCount(), 0);
});

test("the local gateway tells its page the issuer's endpoints and lets it reach the token endpoint alone besides itself", async (t) => {
  const { issuer, page, pageOrigin } = await signInSetup(t);
  const config = await (await fetch(`${pageOrigin}/config.json`)).json();
  t.deepEqual(config, {
    stage: "dev",
    auth: "oidc",
    oidc: {
      issuer: issuer.issuer,
      clientId: issuer.clientId,
      authorizationEndpoint: issuer.authorizationEndpoint,
      tokenEndpoint: issuer.tokenEndpoint,
      scope: "openid profile",
      nameClaim: "name",
    },
  });
  const response = await page.goto(`${pageOrigin}/`);
  const policy = (await response?.headerValue("content-security-policy")) ?? "";
  const connectSrc = policy.split("; ").find((directive) => directive.startsWith("connect-src"));
  t.is(connectSrc, `connect-src 'self' ws://127.0.0.1:${new URL(pageOrigin).port} ${issuer.issuer}`);
});
