// ESLint flat config: typescript-eslint recommended, plus the rule that keeps compute/ pure.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'sdk/generated/**',
      'bin/**',
      '*.js',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // No consistent-type-imports: decorator metadata needs runtime class imports.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Optional native backends and compiled worker modules are loaded with require().
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // compute/ is the pure numeric library: no API, database, queue or GraphQL code.
    files: ['compute/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/src/**', '../src/*'], message: 'compute/ must not import src/' },
            {
              group: ['@mikro-orm/*', 'ioredis', 'bullmq', 'graphql', 'type-graphql', 'minio'],
              message: 'compute/ is pure',
            },
          ],
        },
      ],
    },
  },
);
