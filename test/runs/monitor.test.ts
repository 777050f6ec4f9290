/**
 * The training monitor's episode statistics: the rolling IoU of finished episodes and the label
 * accuracy of clicks, judged at the clicked point (the cell's centre), as evaluation judges it.
 */
import { EpisodeStats } from '../../src/runs/monitor';

const click = (cell: number, label: number, centres: number[], fractions: number[]) => ({
  cell,
  label,
  cell_centres: Float32Array.from(centres),
  cell_fractions: Float32Array.from(fractions),
});

describe('EpisodeStats', () => {
  it("judges a click's label by the truth at the cell's centre, not by the cell's majority", () => {
    const stats = new EpisodeStats();
    // Cell 0: mostly target but its centre is background; cell 1 the other way round.
    const centres = [0, 1];
    const fractions = [0.75, 0.25];
    stats.observe([click(0, 0, centres, fractions), click(1, 1, centres, fractions), click(0, 1, centres, fractions)]);
    expect(stats.labelAccuracy()).toBeCloseTo(2 / 3, 12);
  });

  it('reads the last step of an ended episode from final_info, and counts nothing an env does not give', () => {
    const stats = new EpisodeStats(2);
    stats.observe([{ final_info: { ...click(1, 1, [0, 1], [0, 1]), iou: 0.5 } }]);
    stats.observe([{ final_info: { iou: 0.7 } }, { final_info: { iou: 0.9 } }]);
    // Fractions alone are not the truth at the clicked point.
    stats.observe([{ cell: 0, label: 1, cell_fractions: Float32Array.from([1, 0]) }]);
    expect(stats.episodes).toBe(3);
    expect(stats.meanIou()).toBeCloseTo(0.8, 12); // the window of 2 keeps 0.7 and 0.9
    expect(stats.labelAccuracy()).toBe(1);
  });
});
