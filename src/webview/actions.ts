/**
 * What the user can ask the view for, in one map: the toolbar and the keys share it, so a button
 * and its key always do the same thing.
 */
import type { ControlActions } from "./controls";
import { exportView } from "./exporter";
import type { GraphView } from "./graphView";
import type { KeyActions } from "./keys";

export type ViewActions = ControlActions & KeyActions;

type ActionTarget = Pick<GraphView, "canvas" | "playback" | "side" | "saved" | "stage" | "shown" | "controls" | "cy" | "searchBox" | "seek" | "step" | "browser" | "marks" | "showGraph" | "host" | "palette">;

export function viewActions(v: ActionTarget): ViewActions {
  return {
    pickRoot: (k) => {
      const shown = v.shown;
      if (!shown) return;
      v.host.postMessage({ type: "state", state: { rootIndex: k } });
      void v.showGraph(shown.result, k, shown.strings, shown.settings);
    },
    setMode: (mode) => v.playback.setMode(mode, v.shown?.hierarchy ? v.stage.level : undefined),
    reset: () => (v.playback.stop(), v.seek(0)),
    stepBy: (d) => v.seek(v.step + d),
    first: () => v.seek(0),
    last: () => v.seek(v.playback.stepper?.stepCount ?? 0),
    togglePlay: () => v.playback.toggle(),
    speedChanged: () => v.playback.playing && (v.playback.stop(), v.playback.toggle()),
    search: (q) => v.searchBox.run(q),
    nextMatch: (back) => v.searchBox.next(back),
    focusSearch: () => v.controls?.search.focus(),
    zoomIn: () => v.canvas.zoomIn(),
    zoomOut: () => v.canvas.zoomOut(),
    zoomReset: () => v.canvas.zoomReset(),
    fit: () => v.canvas.fit(),
    up: () => void v.browser.up(),
    openSelected: () => v.cy?.nodes(":selected").forEach((n) => void v.browser.openElement(n)),
    paths: () => v.marks.showPaths(),
    toggleSide: () => (v.side.setOpen(!v.side.open), v.saved.soon()),
    toggleMinimap: () => {
      const minimap = v.stage.minimap;
      if (!minimap) return;
      minimap.enabled = !minimap.enabled;
      minimap.update();
    },
    exportFile: (format) => exportView(v, format),
  };
}
