// The part of jstat (CommonJS, no bundled types) that memhyper uses.
declare module "jstat" {
  const jstat: { jStat: { studentt: { cdf(x: number, dof: number): number } } };
  export default jstat;
}
