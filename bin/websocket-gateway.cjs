#!/usr/bin/env node
// The package's `websocket-gateway` command: the gateway's command line (local/gateway-cli.ts), run through tsx.
require("tsx/cjs");
require("../local/gateway-cli.ts");
