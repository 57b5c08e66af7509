/**
 * `npm run local`: the gateway started from the environment (`./cli-settings.ts`), its addresses printed,
 * and a clean stop (`./stop-on-signals.ts`).
 * Loaded by `express-server.ts` when that is run directly.
 */
import { tokenEndpoint } from "../functions/routes";
import type { LocalAuthOptions } from "./chat/sign-in";
import { readCliSettings } from "./cli-settings";
import { type LocalGatewayOptions, startLocalGateway } from "./express-server";
import type { Credentials } from "./iam/local-iam";
import { stopOnSignals } from "./stop-on-signals";

/**
 * How the user's own tools sign for `@connections` and the embedded DynamoDB: with the keys of
 * their environment, which the gateway took as the operator's, else with the ones it made.
 */
function credentialsLine(options: LocalGatewayOptions, credentials: Credentials): string {
  if (options.credentials)
    return "  your calls      sign with this shell's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  return `  your calls      sign with AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`;
}

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
  stopOnSignals(gateway);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
