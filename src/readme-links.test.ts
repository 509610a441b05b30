import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SKIPPED_DIRS = new Set(['.git', 'node_modules', 'dist', 'sessions', 'uploads', '.build', 'output']);

/** Every README.md of the repository (the top one and those beside what they describe). */
function readmes(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : readmes(full);
    return entry.name === 'README.md' ? [full] : [];
  });
}

/** Markdown without code blocks and code spans, where a bracket is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The targets of the inline links and images of a markdown text that stay inside the repository. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The anchors GitHub gives a markdown file's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const plain = text!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const files = readmes();
const links = files.flatMap((file) =>
  relativeLinks(fs.readFileSync(file, 'utf8')).map((target) => {
    const [pathPart, anchor] = target.split('#') as [string, string | undefined];
    const resolved = pathPart === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(pathPart));
    return { from: path.relative(ROOT, file), target, resolved, anchor };
  }),
);

describe("the READMEs' links", () => {
  it('are found in the README beside each part of the repository', () => {
    const found = files.map((file) => path.relative(ROOT, file)).sort();
    expect(found).toEqual(expect.arrayContaining(['README.md', 'nginx/README.md', 'scripts/README.md', 'scripts/bench/README.md', 'src/README.md']));
    expect(links.length).toBeGreaterThan(20);
  });

  it('point to files and directories that exist', () => {
    const broken = links.filter((link) => !fs.existsSync(link.resolved)).map(({ from, target }) => `${from}: ${target}`);
    expect(broken).toEqual([]);
  });

  it("name a heading of the markdown file they point into when they carry an #anchor", () => {
    const broken = links
      .filter((link) => link.anchor !== undefined && fs.existsSync(link.resolved))
      .filter((link) => !link.resolved.endsWith('.md') || !headingAnchors(fs.readFileSync(link.resolved, 'utf8')).has(link.anchor!))
      .map(({ from, target }) => `${from}: ${target}`);
    expect(broken).toEqual([]);
  });
});
