export default {
  name: 'x'
  create() {}
};
