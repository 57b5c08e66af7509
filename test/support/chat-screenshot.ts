/**
 * Writes docs/chat.png, the README's picture of the chat page: two people talking in a room of a
 * local gateway, seen from one of them, with a third who joined. Run it with `npm run screenshot` after changing the page.
 */
import path from "node:path";
import { type LocalGateway, startLocalGateway } from "../../local/express-server";
import { launchBrowser, openChat, say } from "./browser";

const OUTPUT = path.join(__dirname, "..", "..", "docs", "chat.png");

const conversation: Array<["ada" | "grace", string]> = [
  ["ada", "Morning! Is the local gateway up?"],
  ["grace", "Yes: npm run local, then open http://localhost:8080/ in two tabs."],
  ["ada", "Works. And <b>markup</b> stays text, as it should."],
  [
    "grace",
    "Same handlers as in Lambda, same error frames as API Gateway. Long messages wrap, and anything over 32 KB is stopped here before AWS would close the socket.",
  ],
  ["ada", "Deploying with Pulumi next."],
];

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  // Guests signed in, as `npm run local` runs by default; port 8080 when it is free, so the picture shows the URL a reader will see.
  let gateway: LocalGateway;
  try {
    gateway = await startLocalGateway({ port: 8080, log: () => {}, auth: { mode: "guest" } });
  } catch {
    gateway = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "guest" } });
  }
  const browser = await launchBrowser();
  try {
    const pageUrl = `http://localhost:${gateway.port}/?room=pulumi-deploy`;
    const viewport = { width: 880, height: 720 };
    const pages = {
      ada: await openChat(browser, pageUrl, { name: "Ada", join: true, viewport }),
      grace: await openChat(browser, pageUrl, { name: "Grace", join: true, viewport }),
    };
    const linus = await openChat(browser, pageUrl, { name: "Linus", join: true, viewport });
    await pages.ada.locator(".note.presence", { hasText: "Linus joined" }).waitFor();
    for (const [index, [who, text]] of conversation.entries()) {
      await say(pages[who], text);
      await pages.ada.locator(".message").nth(index).waitFor();
    }
    await linus.context().close();
    await pages.ada.locator(".note.presence", { hasText: "Linus left" }).waitFor();
    await pages.ada.locator("#text").fill("Sounds good");
    await pages.ada.screenshot({ path: OUTPUT });
    console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
  } finally {
    await browser.close();
    await gateway.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
