/**
 * Loads the Pulumi program as one stack under mocks, in a process of its own, and prints what it
 * declared as JSON: `{ outputs, resources }`. Argument: the stack name; `STACK_CONFIG`: its config.
 * Imports nothing but `@pulumi/pulumi`, the mocks and the program, so it runs in a production install.
 */
import * as pulumi from "@pulumi/pulumi";
import { recordingMocks, resolved } from "./pulumi-mocks";

const stack = process.argv[2] ?? "dev";
const { mocks, resources } = recordingMocks();

(async () => {
  await pulumi.runtime.setMocks(mocks, "websocket-chat", stack, false);
  pulumi.runtime.setAllConfig(JSON.parse(process.env.STACK_CONFIG ?? "{}"));
  const program = require("../../index") as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(program)) {
    outputs[name] = pulumi.Output.isInstance(value) ? await resolved(value) : value;
  }
  // Some resources register only once the outputs they take resolve (the page's config.json):
  // wait for every registration, as the program's end does (Pulumi drains its queue, then closes).
  await pulumi.runtime.disconnect();
  process.stdout.write(JSON.stringify({ outputs, resources }));
})().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
