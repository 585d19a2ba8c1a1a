/**
 * Imported first by the program (stacks/index.ts). Pulumi's Node runner (`@pulumi/pulumi/cmd/run`) installs the
 * source-map-support library, for programs it compiles with ts-node. This program runs under tsx, which turns on
 * Node's own source maps, so the library maps the same frames a second time, in JavaScript, for every stack trace
 * made: the SDK makes one for each promise it creates (debuggablePromise), about 60 µs each against 13 µs with Node's
 * mapping, some 0.4 s of CPU per run of the platform, and it maps tsx's output to the wrong lines. With Node's source
 * maps on, Node's own formatting is put back: stack traces show the right TypeScript file, line and column
 * (test/unit/stacks/stack-traces.test.ts).
 */
export function preferNodeSourceMaps(): boolean {
    if (!process.sourceMapsEnabled) return false;
    Reflect.deleteProperty(Error, 'prepareStackTrace');
    return true;
}

preferNodeSourceMaps();
