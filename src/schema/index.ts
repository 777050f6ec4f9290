export { docRows, parseOptions, s as schema, validate, SchemaContext } from './schema';
export type { DocRow, SchemaIssue, Section } from './schema';
export { camelCaseKeys, snakeCaseSection, snakeCaseShape } from './key-case';
