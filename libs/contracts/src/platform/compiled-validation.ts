import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';

type Check = (object: Record<string, unknown>) => boolean;

/**
 * Compiles a DTO's class-validator decorators into one closure that answers "valid or not" for a
 * plain object, using the decorators' own constraint functions. class-validator does the same
 * checks but looks its metadata up, groups it and builds error objects on every call, which costs
 * more than the checks on hot paths (ingestion validates every member of every batch). Callers run
 * class-validator only for objects this rejects, to get the exact error messages, so the decision
 * is the decorators' and the messages are class-validator's.
 *
 * The decision equals class-validator's without `whitelist` (with it, a `ValidateIf` condition that
 * reads an undecorated property would see it stripped first). Returns null when the class uses
 * something this does not compile (nested or async validation, `each`): use class-validator for it.
 */
export function compileValidityCheck(type: new () => object): Check | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(type, '', false, false, undefined);
  const grouped = storage.groupByPropertyName(metadatas);
  const properties: Array<{ property: string; conditions: Array<(object: object, value: unknown) => boolean>; checks: Array<(value: unknown, object: object) => boolean> }> = [];
  for (const [property, list] of Object.entries(grouped)) {
    const conditions: Array<(object: object, value: unknown) => boolean> = [];
    const checks: Array<(value: unknown, object: object) => boolean> = [];
    for (const metadata of list) {
      if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
        conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
        continue;
      }
      if (metadata.type === ValidationTypes.WHITELIST) continue;
      // @IsDefined is a ValidateBy constraint like the others; class-validator only runs it first, which does not change the decision.
      if ((metadata.type !== ValidationTypes.CUSTOM_VALIDATION && metadata.type !== ValidationTypes.IS_DEFINED) || metadata.each) return null;
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) return null;
        const instance = constraint.instance as { validate(value: unknown, args: ValidationArguments): boolean | Promise<boolean> };
        checks.push((value, object) => {
          const result = instance.validate(value, { targetName: type.name, property, object, value, constraints: metadata.constraints });
          if (typeof result !== 'boolean') throw new Error(`${type.name}.${property}: a validator returned a promise`);
          return result;
        });
      }
    }
    properties.push({ property, conditions, checks });
  }
  return (object) => {
    for (const { property, conditions, checks } of properties) {
      const value = object[property];
      let applies = true;
      for (const condition of conditions) if (!condition(object, value)) applies = false;
      if (!applies) continue;
      for (const check of checks) if (!check(value, object)) return false;
    }
    return true;
  };
}
