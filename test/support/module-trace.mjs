// Preloaded with --import by test/startup-lazy.test.ts: appends every module URL the process resolves to
// the file named by MODULE_TRACE_FILE, so a test can see what was loaded by when.
import { appendFileSync } from 'node:fs';
import module from 'node:module';

const file = process.env.MODULE_TRACE_FILE;
const record = (url) => {
  if (file && !url.startsWith('node:')) appendFileSync(file, `${url}\n`);
};
if (module.registerHooks) {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const r = nextResolve(specifier, context);
      record(r.url);
      return r;
    },
  });
} else {
  module.register(`data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      if (!r.url.startsWith('node:')) appendFileSync(${JSON.stringify(file ?? '/dev/null')}, r.url + '\\n');
      return r;
    }`)}`);
}
