/** Request schemas: bodies and params are validated here, and a failure names the field. */
import { z } from 'zod';

export const triggerBody = z.object({
  Item: z.object({
    Path: z.string({ message: 'Item.Path must be a string' }).min(1, 'Item.Path must not be empty').max(4096, 'Item.Path is too long'),
    Name: z.string().max(1024).optional(),
  }, { message: 'Item must be an object with Path and Name' }),
});

export const jobIdParam = z.object({ id: z.uuid({ message: 'job id must be a UUID' }) });

export const filenameParam = z.object({
  filename: z.string().min(1).max(1024).refine((v) => !v.includes('\0'), 'filename contains a NUL byte'),
});

export const forceQuery = z.object({ force: z.enum(['1', 'true', '0', 'false']).optional() });

/** zod's first issue as one sentence: "Item.Path: must be a string". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.join('.');
  return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
}
