for (;;) {}
export default {};
