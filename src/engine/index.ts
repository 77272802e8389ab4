/** GradLens's scalar autograd engine: the public API (no I/O, no vscode). */
export { Value, toValue, topologicalOrder, zeroGrad, creationSite, valuesCreated } from "./value";
export type { Operand } from "./value";
export { add, sub, mul, div, pow, neg, exp, log, relu, tanh, sigmoid, sum } from "./ops";
export { gradcheck, mulberry32 } from "./gradcheck";
export type { GradcheckInput, GradcheckOptions, GradcheckResult, InputCheck, InputMutation, SweepPoint, Verdict } from "./gradcheck";
export { findNonFiniteOrigin, findNonFiniteData, findNonFiniteGrad } from "./nonfinite";
export type { NonFiniteOrigin } from "./nonfinite";
export { snapshotGraph, snapshotGraphPacked, snapshotNodes, snapshotEdges, toJsonNumber, fromJsonNumber, snapshotToJson, snapshotFromJson } from "./snapshot";
export type { GraphSnapshot, PackedLabels, SnapshotNode, SnapshotEdge, JsonNumber, SnapshotJson } from "./snapshot";
