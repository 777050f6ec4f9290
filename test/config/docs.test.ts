import * as fs from 'fs';
import * as path from 'path';
import {
  configKeysMarkdown,
  DOCS_BEGIN,
  ENV_DOCS_BEGIN,
  ENV_DOCS_END,
  envOptionsMarkdown,
  withGeneratedDocs,
} from '../../src/config/docs';
import { promptEnvLibrarySettings, promptEnvSettings } from '../../src/env/prompt/prompt-env-options';

const ENV_MD = path.resolve(__dirname, '../../docs/env.md');

describe('generated docs', () => {
  it("docs/env.md's option table is current and lists every env setting with its config key", () => {
    const text = fs.readFileSync(ENV_MD, 'utf8');
    expect(withGeneratedDocs(text)).toBe(text);
    expect(text).toContain(envOptionsMarkdown());
    expect(text).not.toContain(DOCS_BEGIN);
    for (const key of Object.keys(promptEnvSettings))
      expect(text).toMatch(new RegExp(`\\| \`${key}\` \\(\`env\\.[a-z_]+\`\\) \\|`));
    expect(text).toContain('| `multimaskOutput` (`env.multimask_output`) |');
    for (const key of Object.keys(promptEnvLibrarySettings)) expect(text).toContain(`| \`${key}\` (library only) |`);
  });

  it('rewrites a stale block and keeps the text around it', () => {
    const stale = `# Env\n\nbefore\n\n${ENV_DOCS_BEGIN}\n| old | table |\n${ENV_DOCS_END}\n\nafter\n`;
    expect(withGeneratedDocs(stale)).toBe(`# Env\n\nbefore\n\n${envOptionsMarkdown()}\n\nafter\n`);
  });

  it('appends the key table to a text without a generated block', () => {
    expect(withGeneratedDocs('# Configs\n')).toBe(`# Configs\n\n${configKeysMarkdown()}\n`);
  });
});
