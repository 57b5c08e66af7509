// Starts Architect's sandbox on the benchmark's app (`node start-sandbox.js PORT`); prints "ready" once
// it listens, ends it on SIGTERM. Its functions get the benchmark's DynamoDB through `DDB_ENDPOINT`.

const path = require("node:path");
const sandbox = require("@architect/sandbox");

// Without keys in its own environment, the sandbox's credential lookup would ask EC2's metadata address.
process.env.AWS_ACCESS_KEY_ID ||= "local";
process.env.AWS_SECRET_ACCESS_KEY ||= "local";
process.env.AWS_REGION ||= "us-east-1";

sandbox
  .start({
    cwd: path.join(__dirname, "app"),
    port: Number(process.argv[2]),
    // Loopback only, as the other emulators are run: its default listens on every interface.
    host: "127.0.0.1",
    quiet: true,
    env: {
      TABLE_NAME: "connections",
      DDB_ENDPOINT: process.env.DDB_ENDPOINT,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
  })
  .then(() => console.log("ready"));
process.on("SIGTERM", () => sandbox.end().then(() => process.exit(0)));
