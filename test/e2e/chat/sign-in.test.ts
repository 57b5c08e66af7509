/**
 * Guest sign-in end to end over real sockets: the token endpoint, the authorizer that verifies its
 * tokens, the names bound to connections, and every kind of bad input refused with a clear answer,
 * no row written and nothing else disturbed.
 */
import test from "ava";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { LOCAL_TOKEN_ISSUER } from "../../../local/chat/sign-in";
import { chatGateway, messagesAt, say, signIn } from "../../support/chat";
import { badTokens, rsaKeyPair, type TokenSettings } from "../../support/tokens";
import { connect, eventually } from "../../support/websocket";

const keys = rsaKeyPair();

async function guestGateway() {
  const gw = await chatGateway({ auth: { mode: "guest", privateKeyPem: keys.privateKeyPem } });
  const origin = `http://127.0.0.1:${gw.port}`;
  const settings: TokenSettings = { ...keys, issuer: LOCAL_TOKEN_ISSUER, audience: gw.apiId };
  return { gw, origin, settings };
}

const refusedWith = (promise: Promise<unknown>) =>
  promise.then(
    () => "connected",
    (error: { status?: number; message: string }) => error.status ?? error.message,
  );

test("two guests sign in and chat under their names; a name in a message changes nothing", async (t) => {
  const { gw, origin } = await guestGateway();
  t.teardown(() => gw.close());
  const ada = await signIn(origin, "Ada");
  const eve = await signIn(origin, "Eve");
  const adaClient = await connect(`${gw.url}?token=${ada.token}`);
  const eveClient = await connect(`${gw.url}?token=${eve.token}`);
  say(eveClient, "it is me, Ada", "Ada");
  await eventually(() => messagesAt(adaClient).length === 1 && messagesAt(eveClient).length === 1);
  const [seen] = messagesAt(adaClient) as [ChatMessageFrame];
  t.like(seen, { name: "Eve", userId: eve.userId, data: "it is me, Ada" });
  t.notDeepEqual(ada.userId, eve.userId);

  const rows = await gw.table.rows();
  t.deepEqual(rows.map((row) => [row.name, row.userId]).sort(), [
    ["Ada", ada.userId],
    ["Eve", eve.userId],
  ]);
  adaClient.socket.close();
  eveClient.socket.close();
});

test("bad tokens: each refused with 401 before $connect runs, no row written, and the chat goes on", async (t) => {
  const { gw, origin, settings } = await guestGateway();
  t.teardown(() => gw.close());
  const good = await signIn(origin, "Ada");
  const cases = [
    ...(await badTokens(settings)).map(({ case: what, token }) => ({
      what,
      attempt: () => connect(`${gw.url}?token=${encodeURIComponent(token)}`),
      // A 22 KB URL is past Node's 16 KB header limit: refused by the HTTP server itself.
      expected: token.length > 16 * 1024 ? 431 : 401,
    })),
    {
      what: "a good token in a header instead of the query string",
      attempt: () => connect(gw.url, { headers: { Authorization: `Bearer ${good.token}` } }),
      expected: 401,
    },
    {
      what: "a good token under another parameter name",
      attempt: () => connect(`${gw.url}?access_token=${good.token}`),
      expected: 401,
    },
  ];
  const results = [];
  for (const { what, attempt, expected } of cases)
    results.push({ what, expected, observed: await refusedWith(attempt()) });
  t.log(results.map((r) => `${r.what}: ${r.observed}`).join("\n"));
  t.deepEqual(
    results.filter((r) => r.observed !== r.expected),
    [],
  );
  t.deepEqual(await gw.table.rows(), []);
  t.false(
    gw.log.some((line) => / \$connect connection=/.test(line)),
    "$connect never ran",
  );

  const client = await connect(`${gw.url}?token=${good.token}`);
  say(client, "still here");
  await eventually(() => messagesAt(client).length === 1);
  client.socket.close();
});

test("a burst of bad handshakes: all refused, none invoked $connect, and a good client connects right after", async (t) => {
  const { gw, origin } = await guestGateway();
  t.teardown(() => gw.close());
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => refusedWith(connect(`${gw.url}?token=${i % 2 ? "garbage" : ""}`))),
  );
  t.deepEqual([...new Set(results)], [401]);
  t.deepEqual(await gw.table.rows(), []);
  const client = await connect(`${gw.url}?token=${(await signIn(origin, "Ada")).token}`);
  t.is(client.socket.readyState, client.socket.OPEN);
  client.socket.close();
});

test("the token endpoint refuses bad names and bodies with 400 and a JSON message; other methods 405", async (t) => {
  const { gw, origin } = await guestGateway();
  t.teardown(() => gw.close());
  const post = (body: string) =>
    fetch(`${origin}/auth/token`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const cases: Array<[string, Promise<Response>, number, RegExp]> = [
    ["an empty name", post('{"name":""}'), 400, /must not be empty/],
    ["65 characters", post(JSON.stringify({ name: "é".repeat(65) })), 400, /65 characters; the limit is 64/],
    ["a control character", post(JSON.stringify({ name: "Ada\u001b[31m" })), 400, /control/],
    ["a direction override", post(JSON.stringify({ name: "\u202eAda" })), 400, /text-direction/],
    ["no name", post("{}"), 400, /must be a string/],
    ["not JSON", post("Ada"), 400, /not valid JSON/],
    [
      "a form body",
      fetch(`${origin}/auth/token`, { method: "POST", body: new URLSearchParams({ name: "Ada" }) }),
      400,
      /not valid JSON/,
    ],
    ["a large body", post(JSON.stringify({ name: "Ada", x: "y".repeat(100_000) })), 400, /limit is 1024/],
    ["GET", fetch(`${origin}/auth/token`), 405, /Use POST/],
  ];
  for (const [what, pending, status, message] of cases) {
    const response = await pending;
    t.is(response.status, status, what);
    t.regex(response.headers.get("content-type") ?? "", /application\/json/, what);
    t.regex(((await response.json()) as { message: string }).message, message, what);
  }
  t.true(gw.log.some((line) => /POST \/auth\/token function=token status=400 \d+\.\d ms/.test(line)));
});

test("a token admits only to the gateway that issued it: another's API id is not its audience", async (t) => {
  const first = await guestGateway();
  const second = await guestGateway();
  t.teardown(() => Promise.all([first.gw.close(), second.gw.close()]));
  const token = await signIn(first.origin, "Ada");
  t.is(await refusedWith(connect(`${second.gw.url}?token=${token.token}`)), 401);
  (await connect(`${first.gw.url}?token=${token.token}`)).socket.close();
});

test("one address asks for tokens within its budget: past it, 429 with Retry-After and no token", async (t) => {
  const gw = await chatGateway({
    auth: { mode: "guest" },
    functionEnvironment: { RATE_LIMITS: JSON.stringify({ tokens: { perAddress: 3, seconds: 3600 } }) },
  });
  t.teardown(() => gw.close());
  const origin = `http://127.0.0.1:${gw.port}`;
  const ask = () =>
    fetch(`${origin}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"Ada"}',
    });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push(await ask());
  t.deepEqual(
    statuses.map((response) => response.status),
    [200, 200, 200, 429, 429],
  );
  const refused = statuses[3] as Response;
  t.true(Number(refused.headers.get("retry-after")) > 0);
  const body = (await refused.json()) as { message: string; token?: string };
  t.regex(body.message, /^Too many tokens asked from one address: at most 3 every 3600 s; try again in \d+ s$/);
  t.is(body.token, undefined);
  // A bad name still counts: a flood of garbage is no way around the budget.
  t.is((await fetch(`${origin}/auth/token`, { method: "POST", body: "x" })).status, 429);
});
