// Prints the license text of every package that goes into the bundle (the runtime
// dependencies in package-lock.json; esbuild only builds it), for editor.LICENSES.txt.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const out = ["Third-party code in editor.min.js, with its licenses.", ""];
for (const [path, meta] of Object.entries(lock.packages)) {
  if (!path || meta.dev) continue;
  const file = readdirSync(path).find((f) => /^licen[cs]e/i.test(f));
  if (!file) throw new Error(`${path} has no license file`);
  out.push("=".repeat(72), `${path.replace(/^node_modules\//, "")} ${meta.version} (${meta.license})`, "");
  out.push(readFileSync(join(path, file), "utf8").trim(), "");
}
console.log(out.join("\n"));
