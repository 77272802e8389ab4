/** The lines above the graph: a notice (grouped, cut short, or why there is no graph) and the stale banner. */
import { el, setText } from "./dom";

export class Banners {
  readonly notice = el("div", { class: "notice", role: "status" });
  readonly stale = el("div", { class: "stale-banner", role: "status", hidden: "" });

  showNotice(text: string): void {
    setText(this.notice, text);
    this.notice.hidden = text === "";
  }

  /** `text` is the stale message, shown only while `stale`. */
  setStale(stale: boolean, text: string): void {
    this.stale.hidden = !stale;
    setText(this.stale, stale ? text : "");
  }
}
