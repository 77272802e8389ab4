/** What the view keeps with `setState` across hide/show and reload (written at most every 200 ms), and how it is read back. */
import type { ViewState } from "../protocol/messages";
import type { Viewport } from "./canvas";
import type { GraphView } from "./graphView";
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

type StateSource = Pick<GraphView, "shown" | "cy" | "canvas" | "nav" | "playback" | "controls" | "side">;

/** The state to save for what is on screen (undefined: no graph). */
export function captureState(v: StateSource): ViewState | undefined {
  const { shown, cy } = v;
  if (!shown) return undefined;
  const selected = cy?.nodes(":selected").first();
  const stepper = v.playback.stepper;
  return {
    rootIndex: shown.rootIndex,
    graphKey: shown.key,
    zoom: cy?.zoom(),
    pan: cy?.pan(),
    moved: v.canvas.moved,
    selected: selected && selected.nonempty() ? selected.id() : undefined,
    path: v.nav.keys,
    animation: stepper ? { mode: stepper.mode, step: stepper.step } : undefined,
    search: v.controls?.search.value || undefined,
    sideOpen: v.side.open,
  };
}

/** The saved viewport, if the state has one. */
export function savedViewport(restore: ViewState | undefined): Viewport | undefined {
  return restore?.zoom !== undefined && restore.pan ? { zoom: restore.zoom, pan: restore.pan } : undefined;
}

/** Once the level is drawn: the saved step, search and selection come back. */
export function restoreAfterRender(v: Pick<GraphView, "seek" | "controls" | "searchBox" | "cy">, restore: ViewState | undefined): void {
  if (restore?.animation?.step) v.seek(restore.animation.step);
  if (restore?.search && v.controls) {
    v.controls.search.value = restore.search;
    v.searchBox.run(restore.search, false);
  }
  if (restore?.selected) v.cy?.getElementById(restore.selected).select();
}
