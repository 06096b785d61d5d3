/** The part of jstat (which ships no types) the load test uses. */
declare module 'jstat' {
  export const jStat: {
    studentt: {
      /** The quantile of Student's t distribution: the value below which `p` of it lies, for `dof` degrees of freedom. */
      inv(p: number, dof: number): number;
    };
  };
}
