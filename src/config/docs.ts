/**
 * Markdown generated from the schemas' descriptions, so the docs cannot fall behind the code: the
 * key table of configs/README.md and the env's option table in docs/env.md. Each sits between
 * markers in its file; `alignsam config --docs --write <file>` rewrites the blocks a file holds,
 * and tests compare the files with this output.
 */
import { promptEnvLibrarySettings, promptEnvSettings } from '../env/prompt/prompt-env-options';
import { BUILTIN_TERMS } from '../reward/terms';
import { snakeCase } from '../schema/key-case';
import { docRows, s, type DocRow } from '../schema/schema';
import { configSchema } from './alignsam-config';

const escape = (text: string): string => text.replace(/\|/g, '\\|');

export const DOCS_BEGIN = '<!-- BEGIN GENERATED KEYS (alignsam config --docs) -->';
export const DOCS_END = '<!-- END GENERATED KEYS -->';
export const ENV_DOCS_BEGIN = '<!-- BEGIN GENERATED ENV OPTIONS (alignsam config --docs) -->';
export const ENV_DOCS_END = '<!-- END GENERATED ENV OPTIONS -->';

const row = (name: string, r: DocRow): string =>
  `| ${name} | ${escape(r.type)} | \`${escape(r.default)}\` | ${escape(r.doc)} |`;

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
    for (const r of list) out.push(row(`\`${r.path}\``, r));
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

/** The settings of SamPromptEnv (the vector envs take the same), with their config keys. */
export function envOptionsMarkdown(): string {
  const out = [ENV_DOCS_BEGIN, '| option (config key) | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const r of docRows(s.object(promptEnvSettings)))
    out.push(row(`\`${r.path}\` (\`env.${snakeCase(r.path)}\`)`, r));
  for (const r of docRows(s.object(promptEnvLibrarySettings))) out.push(row(`\`${r.path}\` (library only)`, r));
  out.push(ENV_DOCS_END);
  return out.join('\n');
}

const GENERATED_BLOCKS = [
  { begin: DOCS_BEGIN, end: DOCS_END, markdown: configKeysMarkdown },
  { begin: ENV_DOCS_BEGIN, end: ENV_DOCS_END, markdown: envOptionsMarkdown },
];

/**
 * A markdown text with each generated block it holds rewritten; a text without any gets the key
 * table appended.
 */
export function withGeneratedDocs(text: string): string {
  let out = text;
  let found = false;
  for (const { begin, end, markdown } of GENERATED_BLOCKS) {
    const a = out.indexOf(begin);
    const b = out.indexOf(end, a);
    if (a < 0 || b < 0) continue;
    found = true;
    out = out.slice(0, a) + markdown() + out.slice(b + end.length);
  }
  return found ? out : `${out.trimEnd()}\n\n${configKeysMarkdown()}\n`;
}
