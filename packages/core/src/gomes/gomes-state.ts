/** Lifecycle state of a gomes instance. @public */
export type GomesState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped' | 'failed';
