// Records which sources the committed bundle was built from (tests/core/test_editor_bundle.py
// recomputes it, so a change to src/ or the packages without `make frontend` is caught).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const files = ["package.json", "package-lock.json",
  ...readdirSync("src").sort().map((f) => join("src", f))].sort();
const hash = createHash("sha256");
for (const file of files) {
  hash.update(file + "\0");
  hash.update(readFileSync(file));
  hash.update("\0");
}
writeFileSync("../static/editor/SOURCE.sha256", hash.digest("hex") + "\n");
