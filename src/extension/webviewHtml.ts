/** The HTML shell of GradLens's webviews: a strict CSP with a nonce, local resources only. */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import { escapeXml } from "../format/markup";

export interface WebviewPage {
  /** The view's script and stylesheet. */
  script: vscode.Uri;
  style: vscode.Uri;
  /** Extra CSP sources the view needs (e.g. `img-src … blob:`, `worker-src blob:`). */
  imgBlob?: boolean;
  workerBlob?: boolean;
  /** What the view says until its first message is in (a big graph takes seconds to arrive): `data-loading` on #app. */
  loading?: string;
}

export function webviewHtml(webview: vscode.Webview, page: WebviewPage): string {
  const nonce = randomBytes(16).toString("base64");
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:${page.imgBlob ? " blob:" : ""}`,
    `font-src ${webview.cspSource}`,
    ...(page.workerBlob ? ["worker-src blob:"] : []),
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="${vscode.env.language}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(page.style)}">
<title>GradLens</title>
</head>
<body>
<div id="app"${page.loading ? ` data-loading="${escapeXml(page.loading)}"` : ""}></div>
<script nonce="${nonce}" src="${webview.asWebviewUri(page.script)}"></script>
</body>
</html>`;
}
