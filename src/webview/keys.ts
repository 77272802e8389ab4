/** The view's keys (outside text fields and without modifiers): stepping, search, zoom, groups. */
export interface KeyActions {
  togglePlay(): void;
  stepBy(delta: number): void;
  first(): void;
  last(): void;
  focusSearch(): void;
  zoomIn(): void;
  zoomOut(): void;
  zoomReset(): void;
  fit(): void;
  paths(): void;
  up(): void;
  openSelected(): void;
}

export function bindKeys(actions: KeyActions): void {
  const table: Record<string, () => void> = {
    " ": () => actions.togglePlay(),
    ArrowRight: () => actions.stepBy(1),
    ArrowLeft: () => actions.stepBy(-1),
    Home: () => actions.first(),
    End: () => actions.last(),
    "/": () => actions.focusSearch(),
    "+": () => actions.zoomIn(),
    "=": () => actions.zoomIn(),
    "-": () => actions.zoomOut(),
    "0": () => actions.zoomReset(),
    f: () => actions.fit(),
    p: () => actions.paths(),
    Backspace: () => actions.up(),
    Enter: () => actions.openSelected(),
  };
  document.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement | null;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    if (target?.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
    const action = table[e.key];
    if (action && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      action();
    }
  });
}
