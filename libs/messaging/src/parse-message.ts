import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { NonRetryableMessageError } from './errors';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((problem) => `${path}: ${problem}`);
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/** Validates message data against a class-validator DTO; invalid data is not retryable. */
export function parseMessageData<T extends object>(type: ClassConstructor<T>, data: unknown): T {
  if (typeof data !== 'object' || data === null) {
    throw new NonRetryableMessageError(`${type.name}: message data must be an object`);
  }
  const instance = plainToInstance(type, data);
  const problems = flatten(validateSync(instance, { forbidUnknownValues: false }));
  if (problems.length > 0) throw new NonRetryableMessageError(`${type.name} invalid: ${problems.join('; ')}`);
  return instance;
}
