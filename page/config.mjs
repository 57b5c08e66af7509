/*
 * Where the page may connect and send its token: the WebSocket URLs and the token endpoints its
 * `config.json` names (the local gateway's, or the one a stack publishes beside the page), and
 * nothing else. A link may choose among them (`?url=`, `?tokenUrl=`); one naming any other origin
 * is refused and says why. Once the config is read, the page adds a policy to itself that lets the
 * browser connect to those origins alone: a policy can be added to, never loosened.
 */

/** `config.json`: `{url, urls, auth, tokenUrl, oidc}` as published, or the local gateway's `{stage, auth, ...}`. */
async function fetchConfig() {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (response.ok) return await response.json();
  } catch {
    // Served by something other than the gateway or the stack: the default stage on this origin.
  }
  return {};
}

/** What the page may do: `{url, urls, auth, tokenUrl, oidc}`, `urls` every WebSocket URL it may open. */
export async function loadConfig() {
  // Opened as a file: no config.json, so nowhere to connect.
  if (!location.host) return { url: "", urls: [], auth: "none" };
  const published = await fetchConfig();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // Published by a stack, `config.json` names the API's URL; the local gateway's, only its stage.
  const url = published.url || `${scheme}://${location.host}/${encodeURIComponent(published.stage || "dev")}`;
  const config = {
    url,
    urls: [url, ...(Array.isArray(published.urls) ? published.urls : [])],
    auth: published.auth ?? "none",
    tokenUrl: published.tokenUrl ? new URL(published.tokenUrl, location.href).href : undefined,
    oidc: published.oidc,
  };
  const tokenEndpoints = [config.tokenUrl, config.oidc?.tokenEndpoint].filter(Boolean);
  connectOnlyTo([...socketOrigins(config), ...tokenEndpoints.map(originOf)]);
  return config;
}

/** Why the page will not open `url`, or "" if it may: a WebSocket URL on an origin config.json names. */
export function refusal(config, url) {
  if (!/^wss?:\/\/./i.test(url)) return "The URL must start with ws:// or wss://";
  const origin = originOf(url);
  const allowed = socketOrigins(config);
  if (allowed.includes(origin)) return "";
  if (allowed.length === 0) {
    return "Opened as a file, this page has no config.json and connects nowhere: open it from the local server or the stack's page URL";
  }
  return `Not connecting to ${origin}: this page connects only to ${allowed.join(" or ")}, as its config.json says`;
}

/**
 * A link's choices, `?url=` and `?tokenUrl=`, taken when config.json names their origins. Returns
 * why one was refused ("" when none was): the page then connects nowhere until asked.
 */
export function followLink(config) {
  const query = new URLSearchParams(location.search);
  const url = query.get("url");
  if (url !== null) {
    const why = refusal(config, url);
    if (why) return `${why}; the link's ?url= was not followed`;
    config.url = url;
  }
  const tokenUrl = query.get("tokenUrl");
  if (tokenUrl !== null) {
    const allowed = config.tokenUrl && originOf(config.tokenUrl);
    if (!allowed || originOf(tokenUrl) !== allowed) {
      const where = allowed ? `only at ${allowed}` : "nowhere (its config.json names no token endpoint)";
      return `Not signing in at ${originOf(tokenUrl) || tokenUrl}: this page gets tokens ${where}; the link's ?tokenUrl= was not followed`;
    }
    config.tokenUrl = tokenUrl;
  }
  return "";
}

function socketOrigins(config) {
  return [...new Set(config.urls.map(originOf).filter(Boolean))];
}

function originOf(url) {
  try {
    const { origin } = new URL(url);
    return origin === "null" ? "" : origin;
  } catch {
    return "";
  }
}

/** From here on the browser lets this page connect to its own origin and `origins` alone. */
function connectOnlyTo(origins) {
  const policy = document.createElement("meta");
  policy.httpEquiv = "Content-Security-Policy";
  policy.content = `connect-src ${["'self'", ...new Set(origins)].join(" ")}`;
  document.head.append(policy);
}
