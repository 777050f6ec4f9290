// Lint rules for the whole repository: ESLint's and typescript-eslint's recommended sets, with
// formatting left to Prettier (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      'runs/',
      '.cache/',
      'scratch/',
      'models/',
      // Written by scripts/build-simd-kernels.sh.
      'src/tfjs-ops/simd/kernels-wasm.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a binding kept for its position or to drop a key from a rest copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `let { a, b } = ...` where only one is reassigned stays one declaration.
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    // The launcher and tool configs are plain CommonJS run by Node.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read reference fixtures whose JSON is checked by the assertions, not by types.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
