// Type-aware lint, part of the README's test command: promises are awaited, returned or
// explicitly voided (a floating promise hides its failure), and awaits are of promises.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.gen.ts'] },
  {
    // What tsconfig.json and packages/gui/tsconfig.json typecheck.
    files: ['packages/*/src/**/*.ts', 'packages/gui/src/**/*.tsx', 'e2e/**/*.ts', 'bench/**/*.ts', 'charms/*/src/**/*.ts', 'tests/*.ts', 'tests/charms/*/src/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
);
