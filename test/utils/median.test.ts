import { median } from '../../src/utils/median';

it('median: the middle value, the mean of the middle two for an even count, NaN for none', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNaN();
});
