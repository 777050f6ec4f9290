/**
 * The published results are what the committed ablation gives: docs/results.md, the README's
 * results section and the plot's SVG are regenerated from docs/results/ablation.json and must match
 * byte for byte (after a new ablation: `npx alignsam results --ablation <its ablation.json>`). The
 * PNG beside the SVG depends on the fonts installed, so it is only checked to be there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readAblationSummary } from '../../src/report/ablation-summary';
import { ablationPlot } from '../../src/report/ablation-plot';
import { readmeTable, resultsPage, README_BEGIN, README_END } from '../../src/report/results-page';
import { svgDocument } from '../../src/report/svg';

const ROOT = path.join(__dirname, '..', '..');

it('docs/results.md, the README table and the plot are current with docs/results/ablation.json', () => {
  const summary = readAblationSummary(path.join(ROOT, 'docs', 'results', 'ablation.json'));
  expect(summary.protocol).toBe('deployed');
  const page = resultsPage(summary, {
    plot: path.join('results', 'ablation.png'),
    source: path.join('docs', 'results', 'ablation.json'),
  });
  expect(fs.readFileSync(path.join(ROOT, 'docs', 'results.md'), 'utf8')).toBe(page);
  expect(fs.readFileSync(path.join(ROOT, 'docs', 'results', 'ablation.svg'), 'utf8')).toBe(
    svgDocument(ablationPlot(summary)),
  );
  expect(fs.existsSync(path.join(ROOT, 'docs', 'results', 'ablation.png'))).toBe(true);
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END) + README_END.length);
  expect(section).toBe(readmeTable(summary));
});
