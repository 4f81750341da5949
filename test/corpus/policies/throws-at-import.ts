const n: number = 1;
if (n === 1) throw new TypeError('ts module fails at load');
export default {};
