// Writes the licence texts of every package in the bundle next to it (MIT asks for the notice to
// travel with copies of the code).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const out = [];
for (const [path, info] of Object.entries(lock.packages)) {
  if (!path || info.dev) continue;
  const dir = path;
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${info.license}`;
  out.push(`${path.replace(/^node_modules\//, "")} ${info.version}\n\n${text}\n`);
}
writeFileSync("../static/editor/THIRD_PARTY_LICENSES.txt", out.join("\n" + "-".repeat(72) + "\n\n"));
