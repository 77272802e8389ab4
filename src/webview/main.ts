/** The graph view's entry point in the webview: says "ready", then follows the host's messages. */
import type { HostMessage } from "../protocol/messages";
import { GraphView } from "./graphView";
import { hostApi } from "./vscodeApi";

const host = hostApi();
const app = document.getElementById("app") ?? document.body;
const view = new GraphView(app, host);

window.addEventListener("message", (event: MessageEvent<HostMessage>) => {
  try {
    view.handle(event.data);
  } catch (error) {
    host.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
});
window.addEventListener("error", (event) => host.postMessage({ type: "error", message: event.message }));
window.addEventListener("unhandledrejection", (event) => host.postMessage({ type: "error", message: String(event.reason) }));

host.postMessage({ type: "ready" });
