/**
 * The key table of configs/README.md, generated from the schema's descriptions so the docs cannot
 * fall behind the code (a test compares the file with this output).
 */
import { BUILTIN_TERMS } from '../reward/terms';
import { docRows, s } from '../schema/schema';
import { configSchema } from './alignsam-config';

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
    for (const r of list)
      out.push(`| \`${r.path}\` | ${escape(r.type)} | \`${escape(r.default)}\` | ${escape(r.doc)} |`);
  }
  out.push('', ...rewardTermsMarkdown(), '', DOCS_END);
  return out.join('\n');
}

/** The built-in reward terms of reward.terms, with their parameters (from src/reward/terms.ts). */
function rewardTermsMarkdown(): string[] {
  const out = [
    '### `reward.terms`',
    '',
    'Each term is `{term, weight (default 1), name (default: the term), ...parameters}`.',
    '',
    '| term | value | parameters |',
    '| --- | --- | --- |',
  ];
  for (const [term, spec] of Object.entries(BUILTIN_TERMS)) {
    const params = docRows(s.object(spec.params)).map(
      (r) => `\`${r.path}\`: ${r.type}, default \`${r.default}\`. ${r.doc}`,
    );
    out.push(`| \`${term}\` | ${escape(spec.formula)} | ${params.length > 0 ? escape(params.join('<br>')) : '-'} |`);
  }
  out.push(
    '| `custom` | a function from your module (src/reward/custom-term.ts) | `module` (its path), `export` (default: the module or its default export), `options` (passed to it) |',
  );
  return out;
}

/** Replace the generated block of a README text (or append it when absent). */
export function withGeneratedKeys(readme: string): string {
  const block = configKeysMarkdown();
  const a = readme.indexOf(DOCS_BEGIN);
  const b = readme.indexOf(DOCS_END);
  if (a >= 0 && b > a) return readme.slice(0, a) + block + readme.slice(b + DOCS_END.length);
  return `${readme.trimEnd()}\n\n${block}\n`;
}
