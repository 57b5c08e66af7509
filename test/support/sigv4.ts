/** Raw HTTP calls to the management API, signed with the SDK's own SigV4 signer as AWS needs. */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";

export interface SigningOptions {
  region?: string;
  service?: string;
  /** The keys to sign with: a gateway's (`gateway.credentials`) for it to accept the call. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** When the request claims to be signed (X-Amz-Date). Default now. */
  signingDate?: Date;
}

/** `fetch` with the request signed for `execute-api` in us-east-1 (or as `signing` says). */
export async function signedFetch(
  url: string,
  init: RequestInit = {},
  signing: SigningOptions = {},
): Promise<Response> {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: signing.service ?? "execute-api",
    region: signing.region ?? "us-east-1",
    credentials: signing.credentials ?? { accessKeyId: "local", secretAccessKey: "local" },
    sha256: Hash.bind(null, "sha256"),
  });
  const headers = { host: target.host, ...(init.headers as Record<string, string> | undefined) };
  const signed = await signer.sign(
    {
      method: init.method ?? "GET",
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers,
      body: init.body as string | undefined,
    },
    { signingDate: signing.signingDate },
  );
  const { host: _host, ...sent } = signed.headers;
  return fetch(url, { ...init, headers: sent });
}
