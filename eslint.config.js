// Lint: typescript-eslint's strict, type-aware rules over every TypeScript file of the
// project; formatting is Prettier's alone (eslint-config-prettier turns off the rules
// that would disagree with it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'reports/',
      '.cache/',
      'dist/',
      'test/corpus/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Numbers and booleans print as themselves in a message; objects and nullish values
      // still need an explicit conversion.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      // `() => resolve()` and `return m.put()` in a void function return nothing by
      // construction; the rule still catches a void value used where a value is expected.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
      // A leading underscore marks a parameter kept for its signature (the architecture's
      // pseudocode names, a callback's position) or a field dropped by destructuring.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // No function over 60 lines (blank and comment lines not counted) in the tool's code:
    // a reader holds each step in mind at once.
    files: ['src/**/*.ts', 'bench/**/*.ts', 'validation/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The deliberately broken user policies of the loader's tests: written as a careless
    // user writes them (hooks typed `any`, a hook that dereferences undefined on purpose),
    // so that the one-line errors are tested on real mistakes, not on tidy code.
    files: ['test/fixtures/user-policies/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unused-vars': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  prettier,
);
