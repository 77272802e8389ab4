/** Posting a host message into a webview page in the tests, as the extension does. */
import type { Page } from "playwright-core";

/**
 * Posts `message` to the page's window and returns once the view has handled it: a window's messages
 * arrive in the order posted, so a marker posted right after it comes back only when the view's own
 * listener (added first) has run for the message. Both views drop the marker (it has no `type`).
 */
export async function postToView(page: Page, message: unknown): Promise<void> {
  await page.evaluate(
    (m) =>
      new Promise<void>((resolve) => {
        const marker = { harnessSync: Math.random() };
        // No named function in here: the test's transpiler would wrap it in a helper the page lacks.
        const listening = new AbortController();
        window.addEventListener(
          "message",
          (event: MessageEvent<unknown>) => {
            if ((event.data as { harnessSync?: number } | null)?.harnessSync !== marker.harnessSync) return;
            listening.abort();
            resolve();
          },
          { signal: listening.signal },
        );
        window.postMessage(m, "*");
        window.postMessage(marker, "*");
      }),
    message,
  );
}
