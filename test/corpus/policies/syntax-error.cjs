module.exports = {
  name: 'x',
  create: () => ({ init: () => 0,, })
};
