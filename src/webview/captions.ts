/**
 * The words drawn for a group: its title (`logits = gpt() · call 3`, `linear() × 16 calls`, a part
 * of a long list) and its caption (how many values, which line), from the localised strings the
 * extension sends — the hierarchy only says what a group is, never in English.
 */
import type { GraphStrings } from "../protocol/messages";
import { fillIn } from "./format";
import type { GraphModel } from "./graphModel";
import type { Group } from "./hierarchy";

export function groupTitle(t: GraphStrings, g: Group): string {
  const name = g.name;
  let title = name.constants ? t.constants : name.text || "…";
  if (name.call !== undefined) title = fillIn(t.callNumber, title, name.call);
  if (name.calls !== undefined) title = fillIn(t.callCount, title, name.calls);
  if (name.part) title = fillIn(t.partOf, title, name.part[0], name.part[1]);
  return title;
}

export function groupCaption(t: GraphStrings, model: GraphModel, g: Group): string {
  const site = g.site > 0 ? model.sites[g.site] : undefined;
  return site ? fillIn(t.groupSizeAtLine, g.count, site.line) : fillIn(t.groupSize, g.count);
}
