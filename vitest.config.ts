import { defineConfig } from 'vitest/config';

/**
 * Two groups run side by side, each one file at a time. `kernel`: tests that cause and watch
 * events (a process they start, a container, a packet) and would see each other's if two ran at
 * once. `offline`: tests that see nothing of the others (the store, the registry, builds, unit
 * tests). Each group has its own pool, so neither group ever runs two of its files at once.
 * `offline` runs in worker threads: a test there that looks at the thread that spawned a child
 * (header-surface reads the parent's tid) belongs to `kernel`.
 */
const offline = [
  'test/unit/**/*.test.ts',
  'test/registry/{oci-auth,oci-roundtrip,oci-faults,hostile-registry,signing,ux-cosign,run-from-registry,multi-arch}.test.ts',
  'test/cli/{build-metadata,build-sandbox,fuzz,single-executable,ux-inspect,ux-setup,store-faults,admission,deploy-manifests,ux-help,ux-otel,daemon-policy,build-recipe,catalog-tables,ux-readme,daemon-health,daemon,daemon-instances,examples,start-snapshot,resident-memory,core-btf-cache}.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Kernel, registry and container tests start real processes; give them time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'kernel', include: ['test/**/*.test.ts'], exclude: offline, pool: 'forks' } },
      { extends: true, test: { name: 'offline', include: offline, pool: 'threads' } },
    ],
  },
});
