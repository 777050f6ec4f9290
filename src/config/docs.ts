/**
 * The key table of configs/README.md, generated from the schema's descriptions so the docs cannot
 * fall behind the code (a test compares the file with this output).
 */
import { configSchema } from './alignsam-config';
import { docRows } from '../schema/schema';

const escape = (text: string): string => text.replace(/\|/g, '\\|');

export const DOCS_BEGIN = '<!-- BEGIN GENERATED KEYS (alignsam config --docs) -->';
export const DOCS_END = '<!-- END GENERATED KEYS -->';

/** One markdown table per top-level section. */
export function configKeysMarkdown(): string {
  const rows = docRows(configSchema);
  const sections = new Map<string, typeof rows>();
  for (const r of rows) {
    const top = r.path.split('.')[0];
    if (!sections.has(top)) sections.set(top, []);
    sections.get(top)!.push(r);
  }
  const out: string[] = [DOCS_BEGIN];
  for (const [name, list] of sections) {
    out.push('', `### \`${name}\``, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const r of list) out.push(`| \`${r.path}\` | ${escape(r.type)} | \`${escape(r.default)}\` | ${escape(r.doc)} |`);
  }
  out.push('', DOCS_END);
  return out.join('\n');
}

/** Replace the generated block of a README text (or append it when absent). */
export function withGeneratedKeys(readme: string): string {
  const block = configKeysMarkdown();
  const a = readme.indexOf(DOCS_BEGIN);
  const b = readme.indexOf(DOCS_END);
  if (a >= 0 && b > a) return readme.slice(0, a) + block + readme.slice(b + DOCS_END.length);
  return `${readme.trimEnd()}\n\n${block}\n`;
}
