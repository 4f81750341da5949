export default {
  name: 'x',
  create: (): number => { return {; },
};
