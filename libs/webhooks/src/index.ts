export * from './standard-webhooks';
export * from './delivery-policy';
