/** What the view keeps with `setState` across hide/show and reload: written at most every 200 ms. */
import type { ViewState } from "../protocol/messages";
import type { HostApi } from "./vscodeApi";

export class SavedState {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: HostApi,
    private readonly read: () => ViewState | undefined,
  ) {}

  /** The saved state if it belongs to this graph. */
  restoreFor(key: string): ViewState | undefined {
    const saved = this.host.getState();
    return saved?.graphKey === key ? saved : undefined;
  }

  soon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.now(), 200);
  }

  now(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const state = this.read();
    if (state) this.host.setState(state);
  }
}
