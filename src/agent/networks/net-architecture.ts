/**
 * The policy network's architecture choices, written once: their types, defaults, ranges and
 * meanings. The sizes tied to the env (grid, embedding channels, actions, text length) are read
 * from observations; these are the rest. The network validates through this schema, and the run
 * config's agent.net section is a part of it under snake_case keys.
 */
import type { z } from 'zod';
import { s } from '../../schema/schema';

export const ACTION_LAYOUTS = ['label-major', 'cell-major'] as const;
export type ActionLayout = (typeof ACTION_LAYOUTS)[number];

export const netArchitectureFields = {
  projChannels: s.integer({ min: 1 }).default(32).describe('Width of the 1x1 projection of the SAM embedding.'),
  embedConvChannels: s
    .array(s.integer({ min: 1 }))
    .default([32, 32])
    .describe('3x3 conv widths on the embedding grid.'),
  embedConvMinSize: s
    .integer({ min: 1 })
    .nullable()
    .default(null)
    .describe('Smallest side the embedding grid is average-pooled down to before the convs (null: ceil(1.5 G)).'),
  gridConvChannels: s
    .array(s.integer({ min: 1 }), { minItems: 1 })
    .default([64, 64])
    .describe('3x3 conv widths on the action grid (at least one).'),
  valueHidden: s.integer({ min: 1 }).default(64).describe('Hidden width of the value head (PPO).'),
  actionLayout: s
    .enum(ACTION_LAYOUTS)
    .default('label-major')
    .describe(
      "With two outputs per cell (label source 'agent'): 'label-major' (all cells labelled 0, then all labelled 1) or 'cell-major' (a cell's two labels side by side).",
    ),
};

export const netArchitectureSchema = s.object(netArchitectureFields);

export type NetArchitecture = z.infer<typeof netArchitectureSchema>;
