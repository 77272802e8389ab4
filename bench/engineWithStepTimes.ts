// The engine as the training bench's plain program imports it: the same engine, plus the time of
// each backward() through the engine's own observer (one call per step), so the plain run's
// steady-state rate can be read beside the training run's StepRecord times.
import { observeBackward } from "../src/engine/value";

export * from "../src/engine";

const times: number[] = [];
(globalThis as { __benchBackwardTimes?: number[] }).__benchBackwardTimes = times;
observeBackward(() => {
  times.push(performance.now());
});
