/**
 * The local emulators `npm run bench:peers` compares, each started as a child process (its own
 * process group) on the same app (`peers/app/`: AWS's sample's handlers, a SAM template, a
 * `serverless.yml`, an `app.arc`): this project's `websocket-gateway`, serverless-offline 13 (on
 * Serverless Framework 3) and Architect's sandbox 8, pinned in `peers/package.json` and installed
 * there on first use. The peers have no DynamoDB of their own for this app: each gets a dynalite
 * process, as embedded in ours, counted as part of it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

export const EMULATORS = ["websocket-gateway", "serverless-offline", "architect-sandbox"] as const;
export type Emulator = (typeof EMULATORS)[number];

export interface RunningEmulator {
  url: string;
  /** The processes whose trees are the emulator: the server, and the peers' DynamoDB. */
  pids: number[];
  readyMs: number;
  /** The server's last lines of output: what to look at when deliveries were lost. */
  recentOutput(): string[];
  stop(): Promise<void>;
}

const ROOT = path.join(__dirname, "..");
const PEERS = path.join(__dirname, "peers");
const APP = path.join(PEERS, "app");
const READY_MS = 120_000;
const KEYS = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_REGION: "us-east-1" };

/** Installs the pinned peers once (about 300 MB), saying so. */
export function installPeers(log: (line: string) => void): void {
  if (existsSync(path.join(PEERS, "node_modules", ".package-lock.json"))) return;
  log("Installing the emulators to compare with into bench/peers (once; about 300 MB)...");
  const install = spawnSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: PEERS,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (install.status !== 0) throw new Error(`npm ci in bench/peers failed (exit ${install.status})`);
}

export async function startEmulator(emulator: Emulator): Promise<RunningEmulator> {
  const port = await freePort();
  if (emulator === "websocket-gateway") {
    const server = launch(
      process.execPath,
      [path.join(ROOT, "bin", "websocket-gateway.cjs"), path.join(APP, "template.yaml"), "--port", String(port)],
      {},
      /WebSocket API\s+ws:\/\/localhost:\d+\/(\w+)/,
    );
    const [stage] = await server.ready;
    return running(server, [], `ws://127.0.0.1:${port}/${stage}`);
  }
  const dynamodb = await startDynalite();
  try {
    const environment = { DDB_ENDPOINT: dynamodb.endpoint };
    const server =
      emulator === "serverless-offline"
        ? launch(
            process.execPath,
            [
              path.join(PEERS, "node_modules", "serverless", "bin", "serverless.js"),
              ...["offline", "start", "--noSponsor", "--host", "127.0.0.1"],
              ...["--websocketPort", String(port), "--lambdaPort", String(await freePort())],
            ],
            {
              ...environment,
              // Its `@connections` API: on the WebSocket port, without the stage.
              MANAGEMENT_ENDPOINT: `http://127.0.0.1:${port}`,
              SLS_TELEMETRY_DISABLED: "1",
              SLS_NOTIFICATIONS_MODE: "off",
            },
            /Offline \[http for websocket\] listening on/,
          )
        : launch(process.execPath, [path.join(PEERS, "start-sandbox.js"), String(port)], environment, /^ready$/m);
    await server.ready;
    return running(server, [dynamodb.child], `ws://127.0.0.1:${port}`);
  } catch (error) {
    await stopChild(dynamodb.child);
    throw error;
  }
}

interface Launched {
  child: ChildProcess;
  startedAt: number;
  recent: string[];
  /** The ready line's captures. */
  ready: Promise<string[]>;
}

function launch(command: string, args: string[], environment: Record<string, string>, readyLine: RegExp): Launched {
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd: APP,
    env: { ...process.env, ...KEYS, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...environment },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const recent: string[] = [];
  const keep = (chunk: Buffer) => {
    recent.push(...chunk.toString().split("\n").filter(Boolean));
    recent.splice(0, Math.max(0, recent.length - 200));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const ready = new Promise<string[]>((resolve, reject) => {
    // Not ready in time, or gone: its process group is stopped, so nothing of it outlives the benchmark.
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`${path.basename(args[0] ?? command)} not ready:\n${output}`));
    }, READY_MS);
    const read = (chunk: Buffer) => {
      // Only the start-up is kept: afterwards the functions' own output is not the benchmark's business.
      if (output.length < 100_000) output += chunk.toString();
      const match = readyLine.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match.slice(1));
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("exit", (code) => {
      clearTimeout(timer);
      killGroup(child, "SIGKILL");
      reject(new Error(`${path.basename(args[0] ?? command)} exited with ${code}:\n${output}`));
    });
  });
  return { child, startedAt, recent, ready };
}

function running(server: Launched, others: ChildProcess[], url: string): RunningEmulator {
  return {
    url,
    pids: [server.child, ...others].map((child) => child.pid as number),
    readyMs: performance.now() - server.startedAt,
    recentOutput: () => [...server.recent],
    stop: async () => {
      await stopChild(server.child);
      for (const other of others) await stopChild(other);
    },
  };
}

/** A dynalite process with the app's table, as the peers' DynamoDB. */
async function startDynalite(): Promise<{ child: ChildProcess; endpoint: string }> {
  const port = await freePort();
  const code = `require("dynalite")({ createTableMs: 0 }).listen(${port}, "127.0.0.1", () => console.log("ready"))`;
  const dynamodb = launch(process.execPath, ["-e", code], {}, /^ready$/m);
  await dynamodb.ready;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: KEYS.AWS_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: "connections",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
      }),
    );
  } catch (error) {
    await stopChild(dynamodb.child);
    throw error;
  } finally {
    client.destroy();
  }
  return { child: dynamodb.child, endpoint };
}

/** SIGTERM to the child's process group (its handlers' processes too), SIGKILL after 10 s. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      killGroup(child, "SIGKILL"); // what the group left behind
      return resolve();
    }
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      killGroup(child, "SIGKILL");
      resolve();
    });
    killGroup(child, "SIGTERM");
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
