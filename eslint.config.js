// ESLint flat config. Small on purpose: the import fences of docs/architecture.md ("Layout"),
// import cycles, and typescript-eslint's
// `recommended` (syntax only, no type information, so it stays fast).
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

/** One `no-restricted-imports` pattern matching relative imports of the given top-level folders. */
function folders(names, message, extra = {}) {
  // `../db/orm.ts`, `../../db/entities/index.ts`, `../db`: any depth of `../` then the folder.
  return { regex: `^(\\.\\./)+(${names.join('|')})(/|$)`, caseSensitive: true, message, ...extra };
}

export default defineConfig(
  {
    ignores: ['node_modules/', '.tools/', '.data/', 'coverage/', 'dist/', 'db/migrations/'],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/resolver-next': [createNodeResolver()],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // `const { secret: _secret, ...rest } = x` is how this codebase omits a field.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },

  // workflows/: deterministic code run in Temporal's workflow sandbox.
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Everything except the allow-list. ../activities/ is handled below (type-only).
              regex:
                '^(?!(@temporalio/workflow|@temporalio/common|\\./[^/]+|\\.\\./common/[^/]+|\\.\\./activities/[^/]+)$)',
              caseSensitive: true,
              message:
                'workflows/ may import only @temporalio/workflow, @temporalio/common, ../common/*, other workflows/ files, and `import type` from ../activities/*. See docs/architecture.md, Layout.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            folders(['activities'], 'workflows/ may only `import type` from activities/. See docs/architecture.md, Layout.', {
              allowTypeImports: true,
            }),
          ],
        },
      ],
    },
  },

  // common/: the workflow-safe contract shared by api, workflows and activities.
  {
    files: ['common/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!(@temporalio/workflow|@temporalio/common|\\./[^/]+)$)',
              caseSensitive: true,
              allowTypeImports: true,
              message:
                'common/ imports nothing but @temporalio/workflow, @temporalio/common, other common/ files and types. See docs/architecture.md, Layout.',
            },
          ],
        },
      ],
    },
  },

  // activities/: side effects; never reach back into orchestration or HTTP.
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            folders(['workflows', 'api', 'invariants'], 'activities/ never imports workflows/, api/ or invariants/. See docs/architecture.md, Layout.'),
          ],
        },
      ],
    },
  },

  // api/: reaches workflows through the Temporal client only; never activities.
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            folders(
              ['activities', 'workflows'],
              'api/ never imports activities/ or workflows/, not even types; use common/ and the Temporal client. See docs/architecture.md, Layout.',
            ),
            folders(['invariants'], 'api/ never imports invariants/ (the checker is for scripts and tests). See docs/architecture.md, Layout.'),
          ],
        },
      ],
    },
  },

  // db/: persistence only; depends on nothing above it.
  {
    files: ['db/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            folders(
              ['api', 'workflows', 'activities', 'worker', 'invariants'],
              'db/ never imports api/, workflows/, activities/, worker/ or invariants/. See docs/architecture.md, Layout.',
            ),
          ],
        },
      ],
    },
  },

  // invariants/: the read-only consistency checker; reads the database, run by scripts and tests.
  {
    files: ['invariants/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            folders(
              ['api', 'workflows', 'activities', 'worker', 'config', 'data-platform', 'scripts', 'test'],
              'invariants/ imports only db/ and common/. See docs/architecture.md, Layout.',
            ),
          ],
        },
      ],
    },
  },

  // The processes and their configuration never run the checker: only scripts/ and test/ do.
  {
    files: ['worker/**/*.ts', 'config/**/*.ts', 'data-platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [folders(['invariants'], 'only scripts/ and test/ import invariants/. See docs/architecture.md, Layout.')] },
      ],
    },
  },

  // Test helpers wrap loosely typed fixtures and Temporal test APIs.
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
