// ESLint (flat config): typescript-eslint's type-checked rules over the server, scripts, benchmarks,
// tests and the console (web/src, with React's hook rules, type-checked against web/tsconfig.json).
// Formatting is Prettier's (npm run format:check), not ESLint's.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // web/src/gql is written by Codegen (npm run codegen); web/'s build scripts are plain .mjs.
  { ignores: ['dist/**', 'node_modules/**', 'web/src/gql/**', 'test-output/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An async function without await is how a throw becomes a rejection for callers that expect a promise.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Rethrowing what a catch or a signal holds is how errors pass through untouched.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      'no-console': 'error',
    },
  },
  {
    // Tests and benchmarks talk to the console and poke at loosely typed answers on purpose.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Scenario tables pass methods around as values; sockets hand over Buffers.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // A file holds one room: the server, the scripts, the benchmarks and the console stay under 300 lines each
    // (tests may be longer: a file is one feature's whole story).
    files: ['src/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'web/src/**/*.{ts,tsx}'],
    ignores: ['web/src/gql/**'],
    rules: { 'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }] },
  },
  {
    // The console: React's hook rules (the React Compiler's checks included) over web/src.
    files: ['web/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    rules: {
      // An async event handler (onClick, onSubmit) is how React forms call the API; what it answers is ignored by React.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
);
