export default { name: 'nullhooks', create: () => null };
