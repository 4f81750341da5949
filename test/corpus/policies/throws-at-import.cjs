throw new RangeError('cjs module fails at load');
