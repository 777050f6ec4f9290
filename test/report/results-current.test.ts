/**
 * The published results are what the committed ablations give: each page docs/<name>.md with its
 * data in docs/<name>/ablation.json (docs/results.md, and a named task's docs/results-named.md),
 * the plot's SVG beside the data, and the README's results section (from docs/results/) are
 * regenerated and must match byte for byte (after a new ablation: `npx alignsam results --ablation
 * <its ablation.json>`, with `--page docs/<name>.md --no-headline` for a further page). The PNG
 * beside the SVG depends on the fonts installed, so it is only checked to be there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readAblationSummary } from '../../src/report/ablation-summary';
import { ablationPlot } from '../../src/report/ablation-plot';
import { readmeTable, resultsPage, README_BEGIN, README_END } from '../../src/report/results-page';
import { svgDocument } from '../../src/report/svg';

const ROOT = path.join(__dirname, '..', '..');
const DOCS = path.join(ROOT, 'docs');
const PAGES = fs
  .readdirSync(DOCS)
  .filter((n) => fs.existsSync(path.join(DOCS, n, 'ablation.json')))
  .sort();

it('publishes the default task at docs/results.md', () => {
  expect(PAGES).toContain('results');
});

describe.each(PAGES)('docs/%s.md', (name) => {
  const summary = readAblationSummary(path.join(DOCS, name, 'ablation.json'));

  it('is current with its ablation.json, under the deployed protocol, and so is its plot', () => {
    expect(summary.protocol).toBe('deployed');
    const page = resultsPage(summary, {
      plot: path.join(name, 'ablation.png'),
      source: path.join('docs', name, 'ablation.json'),
    });
    expect(fs.readFileSync(path.join(DOCS, `${name}.md`), 'utf8')).toBe(page);
    expect(fs.readFileSync(path.join(DOCS, name, 'ablation.svg'), 'utf8')).toBe(svgDocument(ablationPlot(summary)));
    expect(fs.existsSync(path.join(DOCS, name, 'ablation.png'))).toBe(true);
  });

  if (name === 'results') {
    it("gives the README's results section", () => {
      const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END) + README_END.length);
      expect(section).toBe(readmeTable(summary));
    });
  }
});
