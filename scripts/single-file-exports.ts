// Lists the exported names of src/, bench/, validation/ and test/ that no other file of
// the project uses (an import, a re-export, a property of a dynamically imported module,
// a type reference): candidates to un-export. The public API (what package.json
// `exports` points at: src/policy/types.ts) is left out. "unused" marks a name not used
// in its own file either (dead code).
//
// Usage: node --import tsx scripts/single-file-exports.ts [path-prefix ...]
// Cost: one find-references per exported name through the TypeScript language service
// (about a minute for the whole tree).
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const PUBLIC_API = new Set(['src/policy/types.ts']);
const DIRS = ['src/', 'bench/', 'validation/', 'test/'];

function languageService(): { service: ts.LanguageService; files: string[] } {
  const configFile = ts.readConfigFile(resolve(ROOT, 'tsconfig.json'), (f) =>
    readFileSync(f, 'utf8'),
  );
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => parsed.options,
    getScriptFileNames: () => parsed.fileNames,
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) =>
      ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f) ?? '') : undefined,
    getCurrentDirectory: () => ROOT,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => ts.sys.fileExists(f),
    readFile: (f) => ts.sys.readFile(f),
  };
  return { service: ts.createLanguageService(host), files: parsed.fileNames };
}

/** The name nodes of a file's own exported declarations (not re-exports of imports). */
function exportedNames(sf: ts.SourceFile): ts.Identifier[] {
  const out: ts.Identifier[] = [];
  const exported = (n: ts.Node): boolean =>
    ts.canHaveModifiers(n) &&
    (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword) &&
    !(ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
  for (const st of sf.statements) {
    if (!exported(st)) continue;
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations)
        if (ts.isIdentifier(d.name)) out.push(d.name);
    } else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st) ||
        ts.isEnumDeclaration(st)) &&
      st.name
    )
      out.push(st.name);
  }
  return out;
}

function main(): void {
  const prefixes = process.argv.slice(2);
  const { service, files } = languageService();
  const program = service.getProgram();
  if (!program) throw new Error('no program');
  const rows: string[] = [];
  for (const file of files) {
    const rel = relative(ROOT, file);
    if (!DIRS.some((d) => rel.startsWith(d)) || PUBLIC_API.has(rel)) continue;
    if (prefixes.length > 0 && !prefixes.some((p) => rel.startsWith(p))) continue;
    const sf = program.getSourceFile(file);
    if (!sf) continue;
    for (const name of exportedNames(sf)) {
      const refs = service.findReferences(file, name.getStart(sf)) ?? [];
      const all = refs.flatMap((r) => r.references);
      const elsewhere = all.some((r) => r.fileName !== file);
      if (elsewhere) continue;
      const ownUses = all.filter((r) => !r.isDefinition).length;
      const line = sf.getLineAndCharacterOfPosition(name.getStart(sf)).line + 1;
      rows.push(`${rel}:${line} ${name.text}${ownUses === 0 ? ' (unused)' : ''}`);
    }
  }
  console.log(rows.join('\n'));
  console.error(`${rows.length} exported names used in no other file`);
}

main();
