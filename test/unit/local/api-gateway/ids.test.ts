import test from "ava";
import { apiGatewayId, newApiId } from "../../../../local/api-gateway/ids";

test("ids look like API Gateway's: 11 random bytes, URL-safe base64, padded", (t) => {
  for (let i = 0; i < 50; i++) {
    const id = apiGatewayId();
    t.regex(id, /^[A-Za-z0-9_-]{15}=$/);
    t.is(Buffer.from(id, "base64url").length, 11);
  }
});

test("ids stay distinct across refills of the random pool", (t) => {
  // Several thousand ids span a dozen refills: a refill that reused old bytes would repeat ids.
  const ids = Array.from({ length: 5_000 }, apiGatewayId);
  t.is(new Set(ids).size, ids.length);
});

test("API ids look like AWS's (ten lowercase letters and digits) and differ between gateways", (t) => {
  const ids = Array.from({ length: 100 }, newApiId);
  for (const id of ids) t.regex(id, /^[a-z0-9]{10}$/);
  t.is(new Set(ids).size, ids.length);
});
