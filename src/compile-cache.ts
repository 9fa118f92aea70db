import module from 'node:module';

// Start-up: on Node >= 22.1, keep V8's compiled code of this server and its dependencies on disk (under the
// OS temp directory, or NODE_COMPILE_CACHE), so later starts skip most parsing and compiling. Where the
// directory cannot be written (a read-only root filesystem), Node reports it and carries on without.
// Imported first by the entry point; the heavy modules are imported dynamically after it.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
