export * from './alexnet.js';
export * from './cnn.js';
export * from './initializers.js';
export * from './lenet5.js';
export * from './mlp.js';
export * from './resnet.js';
