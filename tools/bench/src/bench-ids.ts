/** The offers bench's seeded profile ids: deterministic, so the bench and its load process know them without a list. */
export const benchProfileId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
