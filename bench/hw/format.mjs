// Formatting shared by the table scripts of bench/hw.

/** "lo–hi" of `values` at `digits` decimals, or one number when both ends print alike. */
export const range = (values, digits) => {
  const lo = Math.min(...values).toFixed(digits);
  const hi = Math.max(...values).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};
