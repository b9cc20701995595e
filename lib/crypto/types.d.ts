export * from './passwords'
export * from './cipher'
