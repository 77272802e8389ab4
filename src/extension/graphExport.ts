/** Saves what the graph view exports (PNG, SVG, DOT) where the user chooses. */
import * as vscode from "vscode";
import * as path from "node:path";
import type { ExportFormat } from "../protocol/messages";

const filters: Record<ExportFormat, Record<string, string[]>> = {
  png: { PNG: ["png"] },
  svg: { SVG: ["svg"] },
  dot: { "Graphviz DOT": ["dot", "gv"] },
};

export async function saveExport(format: ExportFormat, data: string, sourceFile: string | undefined): Promise<void> {
  const base = sourceFile ? path.basename(sourceFile).replace(/\.[^.]+(\.[^.]+)?$/, "") : "graph";
  const folder = sourceFile ? vscode.Uri.file(path.dirname(sourceFile)) : vscode.workspace.workspaceFolders?.[0]?.uri;
  const defaultUri = folder ? vscode.Uri.joinPath(folder, `${base}-graph.${format}`) : undefined;
  const target = await vscode.window.showSaveDialog({ defaultUri, filters: filters[format], title: vscode.l10n.t("Export graph") });
  if (!target) return;
  try {
    await vscode.workspace.fs.writeFile(target, exportBytes(format, data));
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t("Could not save {0}: {1}", target.fsPath, String(error)));
  }
}

/** PNG arrives as a data URL; SVG and DOT as text. */
export function exportBytes(format: ExportFormat, data: string): Uint8Array {
  if (format === "png") {
    const comma = data.indexOf(",");
    return Buffer.from(comma >= 0 ? data.slice(comma + 1) : data, "base64");
  }
  return new TextEncoder().encode(data);
}
