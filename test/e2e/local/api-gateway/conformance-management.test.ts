/**
 * The `@connections` API where a caller gets its path or method wrong, against what AWS answers,
 * over HTTP with SigV4-signed calls and the real AWS SDK client:
 * - `%40connections` is `@connections` (the developer guide's awscurl example posts to
 *   `/prod/%40connections/R0oXAdfD0kwCH6w%3D`);
 * - without the stage: 403 `{"message":"Forbidden"}` (aws-sdk-php #1955);
 * - a signed call to a route the API does not have: 404 "No method found matching route … for http
 *   method …." (simple-websockets-chat-app #40, cognitect-labs aws-api #201);
 * - a plain GET under the stage: 426 (serverless-offline's WebSocket suite, run against AWS).
 */
import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import test from "ava";
import type { WebSocketEvent } from "../../../../functions/runtime/lambda-events";
import { testGateway } from "../../../support/gateway";
import { recordingRoute as route } from "../../../support/routes";
import { signedFetch } from "../../../support/sigv4";
import { connect } from "../../../support/websocket";

/** A gateway with one live client and the URL of its connection, `@` as `at` spells it. */
async function withClient(t: { teardown(fn: () => Promise<void>): void }) {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events)], servePage: false });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const id = encodeURIComponent(events[0]?.requestContext.connectionId as string);
  const origin = gw.managementUrl.replace(/\/dev$/, "");
  return { gw, client, id, origin, url: (at = "@") => `${gw.managementUrl}/${at}connections/${id}` };
}

const answer = async (response: Response) =>
  `${response.status} ${response.headers.get("x-amzn-errortype")} ${await response.text()}`;

test("%40connections is @connections: POST delivers, GET describes, DELETE closes", async (t) => {
  const { gw, client, url } = await withClient(t);
  const signing = { credentials: gw.credentials };
  const posted = await signedFetch(url("%40"), { method: "POST", body: "via %40" }, signing);
  t.is(posted.status, 200);
  t.is(await client.next(), "via %40");
  const described = await signedFetch(url("%40"), { method: "GET" }, signing);
  t.is(described.status, 200);
  t.is(((await described.json()) as { identity: { sourceIp: string } }).identity.sourceIp, "127.0.0.1");
  const deleted = await signedFetch(url("%40"), { method: "DELETE" }, signing);
  t.is(deleted.status, 204);
  t.is((await client.closed).code, 1000);
});

test("@connections without the stage answers 403 Forbidden, signed or not, and delivers nothing", async (t) => {
  const { gw, client, id, origin } = await withClient(t);
  for (const path of [`/@connections/${id}`, `/%40connections/${id}`]) {
    t.is(
      await answer(
        await signedFetch(`${origin}${path}`, { method: "POST", body: "x" }, { credentials: gw.credentials }),
      ),
      '403 ForbiddenException {"message":"Forbidden"}',
      path,
    );
    t.is(
      await answer(await fetch(`${origin}${path}`, { method: "POST", body: "x" })),
      '403 ForbiddenException {"message":"Forbidden"}',
    );
  }
  // What the SDK client of an endpoint without its stage gets (aws-sdk-php #1955's mistake).
  const stageless = new ApiGatewayManagementApiClient({
    endpoint: origin,
    region: "us-east-1",
    credentials: gw.credentials,
    maxAttempts: 1,
  });
  t.teardown(() => stageless.destroy());
  const error = await t.throwsAsync(
    stageless.send(new PostToConnectionCommand({ ConnectionId: decodeURIComponent(id), Data: "x" })),
  );
  t.true(error instanceof ForbiddenException, error?.name);
  await gw.management.send(new PostToConnectionCommand({ ConnectionId: decodeURIComponent(id), Data: "with stage" }));
  t.is(await client.next(), "with stage", "nothing arrived before the call with the stage");
});

test("a signed call to a route the API does not have: 404 'No method found matching route … for http method ….'", async (t) => {
  const { gw, client, id, url } = await withClient(t);
  const cases: Array<[string, string, string]> = [
    ["PUT", url(), `@connections/${decodeURIComponent(id)}`],
    ["PATCH", url("%40"), `@connections/${decodeURIComponent(id)}`],
    ["POST", `${gw.managementUrl}/@connections/`, "@connections/"],
    ["GET", `${gw.managementUrl}/@connections`, "@connections"],
    ["POST", `${url()}/extra`, `@connections/${decodeURIComponent(id)}/extra`],
    ["POST", `${gw.managementUrl}/other`, "other"],
  ];
  for (const [method, target, route] of cases) {
    const init = { method, ...(method === "GET" ? {} : { body: "x" }) };
    const response = await signedFetch(target, init, { credentials: gw.credentials });
    t.is(
      await answer(response),
      `404 NotFoundException ${JSON.stringify({ message: `No method found matching route ${route} for http method ${method}.` })}`,
      `${method} ${target}`,
    );
  }
  // Unsigned, or signed with keys the account does not know, the same calls are refused before
  // any route is looked for.
  t.is(
    await answer(await fetch(url(), { method: "PUT", body: "x" })),
    '403 MissingAuthenticationTokenException {"message":"Missing Authentication Token"}',
  );
  const stranger = { credentials: { accessKeyId: "AKIASTRANGER", secretAccessKey: "not-the-account's" } };
  t.regex(
    await answer(await signedFetch(`${gw.managementUrl}/other`, { method: "POST", body: "x" }, stranger)),
    /^403 UnrecognizedClientException /,
  );
  await gw.management.send(new PostToConnectionCommand({ ConnectionId: decodeURIComponent(id), Data: "after" }));
  t.is(await client.next(), "after", "none of them delivered anything");
});

test("a plain GET under the stage, no upgrade, answers 426 Upgrade Required; GET of a connection is still GetConnection", async (t) => {
  const { gw, url } = await withClient(t);
  for (const path of ["", "/", `/${Date.now()}`, `/${Date.now()}/${Date.now()}`]) {
    const response = await fetch(`${gw.managementUrl}${path}`);
    t.is(response.status, 426, path);
    t.is(response.headers.get("upgrade"), "websocket");
    t.is(await response.text(), "");
  }
  t.is((await fetch(url())).status, 403, "unsigned GetConnection: Missing Authentication Token, not 426");
  t.is((await signedFetch(url(), { method: "GET" }, { credentials: gw.credentials })).status, 200);
});

test("a web page's request is refused before anything API Gateway would answer: no 403 of the stage, 426 or 404 tells it more", async (t) => {
  const { gw, client, id, origin, url } = await withClient(t);
  // The gateway's own origin passes the browser guard; @connections still refuses any page.
  const page = { origin };
  const calls: Array<[string, RequestInit]> = [
    [`${origin}/@connections/${id}`, { method: "POST", body: "x", headers: page }],
    [`${gw.managementUrl}/`, { headers: page }],
    [`${gw.managementUrl}/other`, { method: "POST", body: "x", headers: page }],
    [url(), { method: "POST", body: "x", headers: page }],
  ];
  for (const [target, init] of calls) {
    const signed = await signedFetch(target, init, { credentials: gw.credentials });
    t.is(await answer(signed), '403 ForbiddenException {"message":"Forbidden"}', target);
  }
  t.is(gw.log.filter((line) => line.includes("a web page's request")).length, calls.length);
  // A page of another origin is stopped by the browser guard itself.
  const elsewhere = await fetch(`${origin}/@connections/${id}`, {
    method: "POST",
    body: "x",
    headers: { origin: "http://attacker.example" },
  });
  t.is(elsewhere.status, 403);
  t.is(elsewhere.headers.get("x-amzn-errortype"), null, "refused before the management API");
  await gw.management.send(new PostToConnectionCommand({ ConnectionId: decodeURIComponent(id), Data: "after" }));
  t.is(await client.next(), "after", "none of them delivered anything");
});
