export default {
  name: 'x',
  create: () => ({ init( => 0 }),
};
