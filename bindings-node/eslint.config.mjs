// ESLint (flat config) for every JavaScript file of the repository; run from the repository
// root by `make lint` (`--config bindings-node/eslint.config.mjs`), which is why the paths
// below start at the root. Formatting is prettier's (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    ignores: [
      '**/node_modules/**',
      'target/**',
      'dist/**',
      '**/*.d.ts',
      'bindings-node/native.d.ts',
      'bindings-node/.readme-blocks/**',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: { ...globals.node } },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
  },
  {
    rules: {
      // Unused arguments keep the shape of callbacks (util.inspect.custom, event handlers).
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
];
