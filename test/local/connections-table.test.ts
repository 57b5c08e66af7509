/**
 * TTL on the connections table where the DynamoDB has it (AWS, LocalStack: nothing of the kind runs
 * here, so the client is a stub at the SDK boundary): turned on unless it is on, and reported
 * missing where the DynamoDB does not implement it, so the gateway replays it.
 */
import { DescribeTimeToLiveCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import test from "ava";
import sinon from "sinon";
import { enableTimeToLive } from "../../local/chat-tables";

function stubClient(describe: unknown, update: () => Promise<unknown> = async () => ({})) {
  const send = sinon.stub().callsFake(async (command: unknown) => {
    if (command instanceof DescribeTimeToLiveCommand) return describe;
    if (command instanceof UpdateTimeToLiveCommand) return update();
    throw new Error("unexpected command");
  });
  return { client: { send } as unknown as DynamoDBClient, send };
}

test("TTL disabled: it is turned on for expiresAt", async (t) => {
  const { client, send } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } });
  t.true(await enableTimeToLive(client, "connections"));
  const update = send.getCalls().find((call) => call.args[0] instanceof UpdateTimeToLiveCommand);
  t.deepEqual((update?.args[0] as UpdateTimeToLiveCommand | undefined)?.input, {
    TableName: "connections",
    TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
  });
});

test("TTL already on (or being turned on): left as it is", async (t) => {
  for (const status of ["ENABLED", "ENABLING"]) {
    const { client, send } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: status } });
    t.true(await enableTimeToLive(client, "connections"));
    t.is(send.callCount, 1, `${status}: no UpdateTimeToLive`);
  }
});

test("a DynamoDB without UpdateTimeToLive (the embedded one): false, so the gateway replays TTL", async (t) => {
  const unknown = Object.assign(new Error("An unknown operation was requested"), { name: "UnknownOperationException" });
  const { client } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } }, async () => {
    throw unknown;
  });
  t.false(await enableTimeToLive(client, "connections"));
});

test("any other failure of UpdateTimeToLive is not taken for a missing feature", async (t) => {
  const denied = Object.assign(new Error("not authorized"), { name: "AccessDeniedException" });
  const { client } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } }, async () => {
    throw denied;
  });
  await t.throwsAsync(enableTimeToLive(client, "connections"), { is: denied });
});
