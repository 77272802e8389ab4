/** The graph view's entry point in the webview: says "ready", then follows the host's messages. */
import { readHostMessage } from "../protocol/messages";
import { GraphView } from "./graphView";
import { hostApi } from "./vscodeApi";

const host = hostApi();
const app = document.getElementById("app") ?? document.body;
const view = new GraphView(app, host);

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  try {
    const message = readHostMessage(event.data);
    // Anything else (a malformed graph) is dropped rather than half-drawn.
    if (message) view.handle(message);
  } catch (error) {
    host.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
});
window.addEventListener("error", (event) => host.postMessage({ type: "error", message: event.message }));
window.addEventListener("unhandledrejection", (event) => host.postMessage({ type: "error", message: String(event.reason) }));

host.postMessage({ type: "ready" });
