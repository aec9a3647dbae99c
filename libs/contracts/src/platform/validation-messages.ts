import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsDefined, IsNotEmpty, IsString, MaxLength, ValidateIf } from 'class-validator';

/**
 * The problem texts of the API's validation errors: each names the field and says what is wrong
 * (missing, wrong type, empty, too long), so a client can fix the request from the message alone.
 */
export const VALIDATION_MESSAGES = {
  required: '$property is required',
  string: '$property must be a string',
  notEmpty: '$property must not be empty',
  maxLength: '$property must be at most $constraint1 characters',
  array: '$property must be an array',
  arrayNotEmpty: '$property must not be empty',
  arrayMaxSize: '$property must have at most $constraint1 items',
  notNull: '$property must not be null (leave it out to keep the current value)',
} as const;

/**
 * Applies decorators in the order listed. class-validator checks a property's decorators in the
 * order they were registered — bottom-up in source — and the global pipe stops at the first
 * failure, so the listed order is the order of the questions: present? right type? not empty?
 * short enough? Only the first "no" is reported.
 */
export function InOrder(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, property) => {
    for (const decorate of decorators) decorate(target, property);
  };
}

/**
 * A string that must be present: missing or null → "is required" (or `requiredMessage`), not a
 * string → "must be a string", '' → "must not be empty", longer than maxLength → "must be at most N characters".
 */
export function RequiredString(maxLength: number, options: { requiredMessage?: string } = {}): PropertyDecorator {
  return InOrder(
    IsDefined({ message: options.requiredMessage ?? VALIDATION_MESSAGES.required }),
    IsString({ message: VALIDATION_MESSAGES.string }),
    IsNotEmpty({ message: VALIDATION_MESSAGES.notEmpty }),
    MaxLength(maxLength, { message: VALIDATION_MESSAGES.maxLength }),
  );
}

/** The checks of RequiredString without the presence check: combine with @IsOptional or @ValidateIf. */
export function StringOf(maxLength: number, options: { allowEmpty?: boolean } = {}): PropertyDecorator {
  return InOrder(
    IsString({ message: VALIDATION_MESSAGES.string }),
    ...(options.allowEmpty ? [] : [IsNotEmpty({ message: VALIDATION_MESSAGES.notEmpty })]),
    MaxLength(maxLength, { message: VALIDATION_MESSAGES.maxLength }),
  );
}

/** A required, non-empty array of at most maxSize items. */
export function RequiredArray(maxSize: number): PropertyDecorator {
  return InOrder(
    IsDefined({ message: VALIDATION_MESSAGES.required }),
    IsArray({ message: VALIDATION_MESSAGES.array }),
    ArrayNotEmpty({ message: VALIDATION_MESSAGES.arrayNotEmpty }),
    ArrayMaxSize(maxSize, { message: VALIDATION_MESSAGES.arrayMaxSize }),
  );
}

/**
 * In place of @IsOptional for a field that may be left out but has no "no value" (a NOT NULL
 * column in an update): absent skips the other checks, null is refused. @IsOptional lets null
 * through to the database, which answered it with a 500.
 */
export function OptionalNotNull(): PropertyDecorator {
  return InOrder(
    ValidateIf((_object: object, value: unknown) => value !== undefined),
    IsDefined({ message: VALIDATION_MESSAGES.notNull }),
  );
}
