/**
 * The library holds no team: no seed's names, ports or regions as values in components/ or dynamic-providers/
 * or config-kit/. Every string and number literal of the code is read with TypeScript's own parser; the docs
 * (JSDoc examples, comments) are read as text for the teams' names, so no example teaches a team's values either.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { flyRegions } from "../../dynamic-providers/fly/regions";

const root = join(__dirname, "..", "..");
const libraryDirs = ["components", "dynamic-providers", "config-kit"];

/** What the five guides name: team, app, database, role and pool names, the seeds' ports and regions. */
const teamStrings = [
  "naluma", "draft", "nuzantara", "chat-dev", "chat_dev", "captionacc", "pipeline", "prefect_server", "content-pool",
  "recovery-pool", "news-ingestion", "balizero", "fra", "ewr", "sin", "CF_ACCESS_AUD", "CLOUDFLARE_API_TOKEN",
  "CF_API_TOKEN", "FLY_API_TOKEN_DASHBOARD", "WORKER_SECRET", "_stcore",
];
const teamNumbers = [8501, 8080, 8000, 3072];
/** The teams', apps', databases', roles' and secrets' own names, which no comment of the library may use as its example. */
const teamNames = [
  "naluma", "draft-app", "draftguru", "nuzantara", "chat-dev", "chat_dev", "captionacc", "pipeline", "prefect_server", "content-pool",
  "recovery-pool", "news-ingestion", "balizero", "CF_ACCESS_AUD", "CF_API_TOKEN", "WORKER_SECRET", "addabutton",
];

/** Catalogues of every valid value, where a seed's value is one entry among all, not a default: the Fly regions. */
const catalogues: Record<string, readonly string[]> = { "dynamic-providers/fly/regions.ts": flyRegions };

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".gen.ts") ? [path] : [];
  });
}

function literals(path: string): { text: string; line: number; numeric: boolean }[] {
  const source = ts.createSourceFile(path, readFileSync(join(root, path), "utf8"), ts.ScriptTarget.ES2022, true);
  const found: { text: string; line: number; numeric: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isNumericLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      found.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, numeric: ts.isNumericLiteral(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the library holds no team", () => {
  const files = libraryDirs.flatMap(sourceFiles);

  it("reads the library's files", () => {
    expect(files).toEqual(expect.arrayContaining(["components/fly-app.ts", "dynamic-providers/fly/machine.ts"]));
  });

  it.each(files)("%s: no seed name, port or region as a value", (path) => {
    const offending = literals(path)
      .filter(({ text }) => !catalogues[path]?.includes(text))
      .filter(({ text, numeric }) =>
        numeric ? teamNumbers.includes(Number(text)) : teamStrings.some((team) => new RegExp(`(^|[^A-Za-z])${team}([^A-Za-z]|$)`).test(text)),
      )
      .map(({ text, line }) => `${path}:${line} ${JSON.stringify(text)}`);
    expect(offending).toEqual([]);
  });

  it.each(files)("%s: no team's name in its docs", (path) => {
    const offending = readFileSync(join(root, path), "utf8")
      .split("\n")
      .flatMap((text, index) => (teamNames.some((team) => new RegExp(`(^|[^A-Za-z_])${team}([^A-Za-z_]|$)`).test(text)) ? [`${path}:${index + 1} ${text.trim()}`] : []));
    expect(offending).toEqual([]);
  });
});
