/**
 * The lines above the graph: a notice (grouped, cut short, or why there is no graph), the stale
 * banner, and the drawing mark (a big graph takes a moment to build; until it is drawn, the one on
 * screen is the previous graph).
 */
import { el, setText } from "./dom";

export class Banners {
  readonly notice = el("div", { class: "notice", role: "status" });
  readonly stale = el("div", { class: "stale-banner", role: "status", hidden: "" });
  readonly drawing = el("div", { class: "drawing-banner", role: "status", "aria-live": "polite", hidden: "" });

  showNotice(text: string): void {
    setText(this.notice, text);
    this.notice.hidden = text === "";
  }

  /** `text` is the stale message, shown only while `stale`. */
  setStale(stale: boolean, text: string): void {
    this.stale.hidden = !stale;
    setText(this.stale, stale ? text : "");
  }

  /** `text` names the graph being drawn; `undefined` removes the mark. */
  setDrawing(text: string | undefined): void {
    this.drawing.hidden = text === undefined;
    setText(this.drawing, text ?? "");
  }
}
