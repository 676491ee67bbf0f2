// Dataset files shipped by vega-datasets, imported as strings through Vite's `?raw` suffix.
declare module '*.csv?raw' {
  const source: string;
  export default source;
}
