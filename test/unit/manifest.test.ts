import { strict as assert } from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import { gradFileContextKey, gradFileGlob } from "../../src/analysis/gradFile";

interface Manifest {
  activationEvents: string[];
  contributes: { menus: Record<string, { command: string; when?: string }[]>; keybindings: { command: string; when?: string }[] };
}

const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as Manifest;
const whenClauses = [...Object.values(manifest.contributes.menus).flat(), ...manifest.contributes.keybindings].map((m) => ({ command: m.command, when: m.when ?? "" }));

describe("package.json: one definition of a grad file", () => {
  it("activates on the grad-file glob of src/analysis/gradFile.ts", () => {
    assert.ok(manifest.activationEvents.includes(`workspaceContains:${gradFileGlob}`), manifest.activationEvents.join(", "));
    assert.deepEqual(manifest.activationEvents.filter((e) => e.includes(".grad")), [`workspaceContains:${gradFileGlob}`]);
  });

  it("spells no file name in a when clause: grad-file commands use the context key", () => {
    for (const { command, when } of whenClauses) assert.doesNotMatch(when, /grad\\?\.|resourceFilename|resourceExtname/, `${command}: ${when}`);
    const gradFileOnly = whenClauses.filter((w) => w.when.includes(gradFileContextKey)).map((w) => w.command);
    assert.deepEqual(gradFileOnly.sort(), ["gradlens.checkGradients", "gradlens.showGraph"]);
  });
});
