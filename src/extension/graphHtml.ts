/** The graph view's HTML shell. */
import * as vscode from "vscode";
import { webviewHtml } from "./webviewHtml";

export function graphHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  // cytoscape's own inline <style> is blocked by the CSP on purpose; media/graph.css gives the
  // container the `position: relative` it wanted. Layout runs in a worker made from a blob.
  return webviewHtml(webview, {
    script: vscode.Uri.joinPath(extensionUri, "dist", "webview.js"),
    style: vscode.Uri.joinPath(extensionUri, "media", "graph.css"),
    imgBlob: true,
    workerBlob: true,
    loading: vscode.l10n.t("Loading the graph…"),
  });
}
