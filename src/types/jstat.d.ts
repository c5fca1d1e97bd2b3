// The part of jstat (CommonJS, no bundled types) that memhyper uses.
declare module "jstat" {
  const jstat: {
    jStat: {
      studentt: { cdf(x: number, dof: number): number };
      normal: { cdf(x: number, mean: number, std: number): number };
    };
  };
  export default jstat;
}
