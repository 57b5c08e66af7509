/**
 * What the `$connect` authorizer adds to a handshake. `npm run bench:auth [-- --connects N --rounds R]`.
 *
 * In one run, against two local gateways that differ only in auth (`none` and `guest`), rounds
 * alternate so drift hits both alike: each round opens N WebSockets one after another (each closed
 * before the next) and times the handshake from the client. Then, on their own: the token
 * endpoint's answer time, the authorizer's handler alone (jose's RS256 verification), and the cold
 * init of each function's package as Pulumi serializes it (the packing is the package test's,
 * `./deployed-packages.ts`), in a fresh Node: what Lambda's init phase adds to a cold start. What runs only on AWS (the authorizer's Lambda invocation itself, KMS's Sign) is
 * not measured here; docs/performance.md says what is known of it.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { signingKey } from "../functions/auth/token-signing";
import { createTokenVerifier } from "../functions/auth/token-verification";
import type { TokenResponse } from "../functions/handlers/token-endpoint";
import { routes } from "../functions/routes";
import { authorizerFactory, tokenEndpointFactory } from "../infra/chat-auth";
import { handlerFactory } from "../infra/websocket-route";
import { LOCAL_TOKEN_ISSUER } from "../local/chat/sign-in";
import { type LocalGateway, startLocalGateway } from "../local/express-server";
import { type Factory, packFunctions } from "./deployed-packages";
import { percentile } from "./table";

const { values: args } = parseArgs({
  options: { connects: { type: "string", default: "300" }, rounds: { type: "string", default: "4" } },
});
const CONNECTS = Number(args.connects);
const ROUNDS = Number(args.rounds);

function handshake(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new WebSocket(url);
    socket.once("open", () => {
      const ms = performance.now() - started;
      socket.once("close", () => resolve(ms));
      socket.close(1000);
    });
    socket.once("unexpected-response", (_request, response) => reject(new Error(`refused ${response.statusCode}`)));
    socket.once("error", reject);
  });
}

async function token(gateway: LocalGateway, name: string): Promise<{ token: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${gateway.port}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = (await response.json()) as TokenResponse;
  return { token: body.token, ms: performance.now() - started };
}

const summary = (label: string, samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p).toFixed(2).padStart(7);
  return `${label.padEnd(34)} n=${String(sorted.length).padEnd(6)} p50 ${at(50)}  p95 ${at(95)}  p99 ${at(99)} ms`;
};

/** Milliseconds to require `file` in a fresh Node with `env`, median of five. */
function loadMs(file: string, env: Record<string, string>): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const options = {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...env,
    },
  };
  const runs = Array.from({ length: 5 }, () => Number(execFileSync(process.execPath, ["-e", script], options)));
  return runs.sort((a, b) => a - b)[2] ?? Number.NaN;
}

let privateKeyPem = "";

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const quiet = { port: 0, log: () => {} };
  const open = await startLocalGateway({ ...quiet, auth: { mode: "none" } });
  // A key of our own, so its public half can verify on its own below.
  privateKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
  const guest = await startLocalGateway({ ...quiet, auth: { mode: "guest", privateKeyPem } });
  const none: number[] = [];
  const authorized: number[] = [];
  const tokenMs: number[] = [];
  try {
    console.log(`${ROUNDS} rounds of ${CONNECTS} handshakes against each gateway, one at a time`);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < CONNECTS; i++) none.push(await handshake(open.url));
      for (let i = 0; i < CONNECTS; i++) {
        const issued = await token(guest, `guest ${i}`);
        tokenMs.push(issued.ms);
        authorized.push(await handshake(`${guest.url}?token=${encodeURIComponent(issued.token)}`));
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    }
    console.log(summary("$connect, auth none", none));
    console.log(summary("$connect, auth guest (authorizer)", authorized));
    const median = (samples: number[]) =>
      percentile(
        [...samples].sort((a, b) => a - b),
        50,
      );
    console.log(`authorizer adds, at the median:    ${(median(authorized) - median(none)).toFixed(2)} ms`);
    console.log(summary("POST /auth/token (local signer)", tokenMs));

    // The authorizer's handler alone: jose verifying one RS256 token against the public key.
    const { token: sample } = await token(guest, "Ada");
    const verify = createTokenVerifier({
      mode: "guest",
      issuer: LOCAL_TOKEN_ISSUER,
      audience: guest.apiId,
      publicKeyPem: signingKey(privateKeyPem).publicKeyPem,
    });
    const firstStarted = performance.now();
    await verify(sample);
    const firstMs = performance.now() - firstStarted;
    const VERIFIES = 2_000;
    const started = performance.now();
    for (let i = 0; i < VERIFIES; i++) await verify(sample);
    const eachUs = ((performance.now() - started) * 1000) / VERIFIES;
    console.log(
      `verify one token (jose, RS256):    first ${firstMs.toFixed(2)} ms (imports the key), then ${eachUs.toFixed(0)} µs`,
    );
  } finally {
    await open.close();
    await guest.close();
  }

  // The packages as deployed: loading `__index.js` builds the handler, as Lambda's init does.
  const onconnect = routes.find((route) => route.routeKey === "$connect");
  if (!onconnect) throw new Error("no $connect route");
  const packages = await packFunctions(
    new Map<string, Factory>([
      ["onconnect", handlerFactory(onconnect)],
      ["authorizer", authorizerFactory()],
      ["token", tokenEndpointFactory()],
    ]),
  );
  const environment = {
    TABLE_NAME: "connections",
    AUTH_MODE: "guest",
    TOKEN_ISSUER: "websocket-chat/bench",
    TOKEN_AUDIENCE: "bench",
    TOKEN_PUBLIC_KEY: signingKey(privateKeyPem).publicKeyPem,
    TOKEN_KMS_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/bench",
  };
  try {
    console.log("init of each package in a fresh Node (require __index.js, the handler built), median of 5:");
    for (const [name, dir] of packages.dirs) {
      console.log(`  ${name.padEnd(12)} ${loadMs(join(dir, "__index.js"), environment).toFixed(1).padStart(7)} ms`);
    }
  } finally {
    rmSync(packages.workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
