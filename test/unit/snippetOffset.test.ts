import { strict as assert } from "assert";
import { placeInFile } from "../../src/runner/snippetOffset";

describe("snippet offsets: a position in a snippet at its place in the file", () => {
  // A selection that starts at line 10, column 5 of its file: "x.mul(y)\nz.backward()".
  const offset = { line: 10, column: 5 };

  it("shifts the first line's columns by where the snippet starts", () => {
    // Column 0 of the snippet's line 1 is the selection's first character.
    assert.deepEqual(placeInFile(offset, 1, 0), { line: 10, column: 5 });
    assert.deepEqual(placeInFile(offset, 1, 2), { line: 10, column: 7 });
  });

  it("keeps later lines' columns, which start at the file's line start", () => {
    assert.deepEqual(placeInFile(offset, 2, 0), { line: 11, column: 1 });
    assert.deepEqual(placeInFile(offset, 3, 4), { line: 12, column: 5 });
  });

  it("is the identity for a whole file (offset 1:1), up to 0- vs 1-based columns", () => {
    assert.deepEqual(placeInFile({ line: 1, column: 1 }, 7, 3), { line: 7, column: 4 });
  });
});
