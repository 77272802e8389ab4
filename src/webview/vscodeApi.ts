/** The webview's handle on VS Code, typed with the protocol. */
import type { ViewMessage, ViewState } from "../protocol/messages";

export interface HostApi {
  postMessage(message: ViewMessage): void;
  getState(): ViewState | undefined;
  setState(state: ViewState): void;
}

declare function acquireVsCodeApi(): HostApi;

let api: HostApi | undefined;

/** `acquireVsCodeApi` may be called once per page; everyone shares this one. */
export function hostApi(): HostApi {
  api ??= acquireVsCodeApi();
  return api;
}
