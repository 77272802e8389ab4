/**
 * Stepping on screen: the stepper of the shown graph, the play timer, the toolbar's step label
 * and play button, the trace in the side panel, and the step's marks on the canvas.
 */
import type { Core } from "cytoscape";
import type { GraphStrings } from "../protocol/messages";
import { speeds, type Controls } from "./controls";
import { setText } from "./dom";
import type { LabelContext } from "./elements";
import { groupTitle } from "./captions";
import { nameOf } from "./graphModel";
import type { Level } from "./level";
import { markStep } from "./marks";
import type { SidePanel } from "./sidePanel";
import { Stepper, type StepMode } from "./stepper";

export class Playback {
  stepper: Stepper | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private strings: GraphStrings | undefined;

  constructor(
    private readonly controls: () => Controls | undefined,
    private readonly side: SidePanel,
    /** What is on screen now (undefined: nothing to mark). */
    private readonly screen: () => { cy: Core; level: Level; shown: LabelContext } | undefined,
    private readonly changed: () => void,
  ) {}

  /** A new graph: steps from 0 in `mode`. */
  start(c: LabelContext, mode: StepMode): void {
    this.strings = c.strings; // before stop(): it titles the play button
    this.stop();
    this.stepper = new Stepper(c.model);
    this.stepper.mode = mode;
    const controls = this.controls();
    if (controls) controls.mode.value = mode;
  }

  get step(): number {
    return this.stepper?.step ?? 0;
  }

  /** Steps by item on a grouped level, node by node on a flat one. */
  setLevel(level: Level, grouped: boolean): void {
    this.stepper?.setLevel(grouped ? level : undefined);
  }

  seek(target: number): void {
    this.stepper?.seek(target);
    this.refresh();
    this.changed();
  }

  setMode(mode: StepMode, level: Level | undefined): void {
    this.stop();
    this.stepper?.setMode(mode, level);
    const controls = this.controls();
    if (controls) controls.mode.value = mode;
    this.refresh();
    this.changed();
  }

  toggle(): void {
    const stepper = this.stepper;
    if (this.timer || !stepper) {
      this.stop();
      return;
    }
    if (stepper.step >= stepper.stepCount) this.seek(0);
    const speed = speeds[Number(this.controls()?.speed.value ?? 2)] ?? 2;
    this.timer = setInterval(() => (stepper.step >= stepper.stepCount ? this.stop() : this.seek(stepper.step + 1)), 1000 / speed);
    this.showPlaying(true);
  }

  get playing(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.showPlaying(false);
  }

  /** Labels with the grads (or values) known at this step, the active item, the trace. */
  refresh(): void {
    const screen = this.screen();
    const { stepper } = this;
    const controls = this.controls();
    if (!screen || !stepper || !controls) return;
    const { cy, level, shown } = screen;
    markStep(cy, level, shown, stepper);
    setText(controls.stepLabel, `${stepper.step}/${stepper.stepCount}`);
    this.side.showTrace(stepper.traceLines(shown.strings, (k) => {
      const item = level.items[k];
      return !item ? shown.strings.topLevel : item.kind === "node" ? nameOf(shown.model, item.node) : groupTitle(shown.strings, item.group);
    }));
  }

  private showPlaying(playing: boolean): void {
    const controls = this.controls();
    if (!controls) return;
    setText(controls.play, playing ? "❚❚" : "▶");
    // The same title (and key) the toolbar gave the button when it was made (controls.ts).
    if (this.strings) controls.play.title = `${playing ? this.strings.pause : this.strings.play} (Space)`;
  }
}
