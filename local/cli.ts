/**
 * `npm run local`: the gateway started from the environment (`./cli-settings.ts`), its addresses printed,
 * and a clean stop on Ctrl-C, SIGTERM, SIGHUP, or when the process that started it is gone (an IDE's
 * stop button or a process manager signals npm, which exits without passing the signal on).
 * Loaded by `express-server.ts` when that is run directly.
 */
import { tokenEndpoint } from "../functions/routes";
import type { LocalAuthOptions } from "./chat/sign-in";
import { readCliSettings } from "./cli-settings";
import { type LocalGatewayOptions, startLocalGateway } from "./express-server";
import type { Credentials } from "./iam/local-iam";

/** How often the server checks that its parent (npm) still runs. */
const PARENT_CHECK_MS = 500;

function authLine(auth: LocalAuthOptions | undefined, origin: string): string {
  switch (auth?.mode) {
    case "guest":
      return `  sign-in         guest tokens: POST ${origin}${tokenEndpoint.localPath} {"name":"..."}, then ?token=... (AUTH=none: open chat)`;
    case "oidc":
      return `  sign-in         ID tokens of ${auth.issuer} for ${auth.audience}, as ?token=...`;
    default:
      return "  sign-in         none: anyone connects, under any name (AUTH=none)";
  }
}

/**
 * How the user's own tools sign for `@connections` and the embedded DynamoDB: with the keys of
 * their environment, which the gateway took as the operator's, else with the ones it made.
 */
function credentialsLine(options: LocalGatewayOptions, credentials: Credentials): string {
  if (options.credentials)
    return "  your calls      sign with this shell's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  return `  your calls      sign with AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`;
}

async function main(): Promise<void> {
  // Without credentials the SDK would end its search by asking the instance-metadata address.
  process.env.AWS_EC2_METADATA_DISABLED ??= "true";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const options = readCliSettings();
  const started = Date.now();
  console.log(
    options.dynamodbEndpoint
      ? `Using DynamoDB at ${options.dynamodbEndpoint} (table ${options.tableName})`
      : "Starting the embedded DynamoDB (in memory)...",
  );
  const gateway = await startLocalGateway(options);
  const shown = (url: string) => (options.host === "127.0.0.1" ? url.replace("127.0.0.1", "localhost") : url);
  console.log(
    [
      `Local API Gateway ready in ${Date.now() - started} ms`,
      `  chat page       ${shown(`http://127.0.0.1:${gateway.port}/`)}`,
      `  WebSocket API   ${shown(gateway.url)}   (also /ws)`,
      `  @connections    ${shown(gateway.managementUrl)}/@connections/{connectionId}`,
      authLine(options.auth, shown(`http://127.0.0.1:${gateway.port}`)),
      `  DynamoDB        ${gateway.dynamodbEndpoint} tables ${gateway.tableName}, ${gateway.messagesTableName}${options.dynamodbEndpoint ? "" : " (embedded)"}`,
      options.throttling
        ? `  throttling      ${options.throttling.burstLimit} burst, ${options.throttling.rateLimit}/s per route, as the stack's stage (THROTTLING=off to lift)`
        : "  throttling      off",
      credentialsLine(options, gateway.credentials),
      "Press Ctrl-C to stop.",
    ].join("\n"),
  );
  let stopping = false;
  const stop = (signal: string) => {
    // A second Ctrl-C while stopping: the user does not want to wait.
    if (stopping) {
      if (signal === "SIGINT" || signal === "SIGTERM") process.exit(1);
      return;
    }
    stopping = true;
    console.log(`${signal}: closing ${gateway.connectionCount()} connection(s)...`);
    gateway.close().then(
      () => {
        console.log("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error("Stopping failed:", error);
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(signal));
  // Under `npm run local` only (a server started in the background on purpose outlives its shell):
  // an orphan is adopted by another process, so its parent id changes.
  if (process.env.npm_lifecycle_event) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop(`parent process ${parent} exited`);
    }, PARENT_CHECK_MS).unref();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
