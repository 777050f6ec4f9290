export * from './text-encoder';
export * from './hashed-ngram-encoder';
export * from './use-encoder';
export * from './create-text-encoder';
