// Architect's layout: a folder per route, each the shared handler.
exports.handler = require("../../../chat.js").connect;
