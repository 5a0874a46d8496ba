/** The part of node-gyp-build (a CommonJS package without types) that native.ts uses. */
declare module 'node-gyp-build' {
  interface NodeGypBuild {
    /** Loads the addon of the package in `dir` (see resolve). */
    (dir: string): unknown;
    /** The path of the addon to load for the package in `dir`: build/Release, else the fitting prebuild; throws when none. */
    resolve(dir: string): string;
  }
  const load: NodeGypBuild;
  export default load;
}
