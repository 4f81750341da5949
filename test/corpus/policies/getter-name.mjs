export default { get name() { throw new Error('name getter'); }, create: () => ({}) };
