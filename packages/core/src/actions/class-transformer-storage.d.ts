// class-transformer 0.5.1 ships no typings next to its CommonJS build; this is the one internal
// module gomes reads (the metadata storage its decorators write to). See action-transformer.ts.
declare module 'class-transformer/cjs/storage.js' {
  import type { MetadataStorage } from 'class-transformer/types/MetadataStorage.js';

  /** The storage `@Type`, `@Transform`, `@Expose` and `@Exclude` write to. */
  export const defaultMetadataStorage: MetadataStorage;
}
