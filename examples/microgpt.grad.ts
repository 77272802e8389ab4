/**
 * Train microgpt (see ./microgpt/model.ts) on the names in ./names.txt for a few dozen
 * steps, print the loss as it falls, then let the model invent some names.
 * The full run in microgpt.py is 1,000 steps; this is a taste of it.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { mulberry32 } from "gradlens";
import { createModel, sample, shuffle, trainStep } from "./microgpt/model";

const docs = readFileSync(join(__dirname, "names.txt"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line.length > 0);
shuffle(docs, mulberry32(42));

const model = createModel({ docs, seed: 42 });
console.log(`${docs.length} names, vocabulary ${model.vocabSize}, ${model.params.length} parameters`);

const numSteps = 50;
for (let step = 0; step < numSteps; step++) {
  const loss = trainStep(model, docs[step % docs.length], step, numSteps);
  if (step % 5 === 0 || step === numSteps - 1) console.log(`step ${step + 1} / ${numSteps} | loss ${loss.toFixed(4)}`);
}

console.log("samples:", Array.from({ length: 5 }, () => sample(model)).join(", "));
