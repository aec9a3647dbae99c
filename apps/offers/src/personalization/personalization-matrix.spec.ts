import { matrixCsv, personalizationMatrix, type MatrixOffer } from './personalization-matrix';

const offers: MatrixOffer[] = [
  { key: 'welcome', name: 'Welcome 5 €', priority: 0, eligibility: {} },
  { key: 'cameras', name: '10% off cameras, "this week"', priority: 10, eligibility: { segments: { anyOf: ['camera-intent'] } } },
  { key: 'winback', name: 'Win-back', priority: 5, eligibility: { lifecycleStages: ['at_risk', 'lapsed'] } },
  { key: 'no-fraud', name: '=SUM(A1)', priority: 1, eligibility: { segments: { noneOf: ['fraud-watch'] } } },
  { key: 'gold', name: 'Gold only', priority: 99, eligibility: { tiers: ['gold'] } },
];

describe('personalizationMatrix', () => {
  const matrix = personalizationMatrix(offers, { 'camera-intent': 'Camera intent', 'unused-segment': 'Unused' });
  const cell = (segment: string | null, stage: string) => matrix.cells.find((c) => c.segment === segment && c.lifecycleStage === stage)?.offers.map((o) => o.key);

  it('has a row per named segment (lifecycle segments are columns) plus one for no segment, and a column per stage', () => {
    expect(matrix.segments).toEqual([null, 'camera-intent', 'fraud-watch']);
    // Rows carry the names segmentation gives; a segment offers has not heard of keeps its key.
    expect(matrix.segmentNames).toEqual({ 'camera-intent': 'Camera intent', 'fraud-watch': 'fraud-watch' });
    expect(matrix.cells.find((c) => c.segment === 'camera-intent')?.segmentName).toBe('Camera intent');
    expect(matrix.cells.find((c) => c.segment === null)?.segmentName).toBeNull();
    expect(matrix.lifecycleStages).toEqual(['prospect', 'new', 'active', 'loyal', 'at_risk', 'lapsed']);
    expect(matrix.cells).toHaveLength(3 * 6);
  });

  it('lists the offers that apply in each cell in priority order; an offer for a tier is in no cell (tiers are not a dimension of the matrix)', () => {
    expect(cell(null, 'active')).toEqual(['no-fraud', 'welcome']);
    expect(cell('camera-intent', 'at_risk')).toEqual(['cameras', 'winback', 'no-fraud', 'welcome']);
    expect(cell('fraud-watch', 'lapsed')).toEqual(['winback', 'welcome']);
  });
});

describe('personalizationMatrix with journeys', () => {
  const matrix = personalizationMatrix(offers, {}, [
    { key: 'camera-fans-10', name: 'Camera fans: 10 %', trigger: { type: 'segment_entered', segment: 'camera-fans-this-week' } },
    { key: 'winback-mail', name: 'Win-back mail', trigger: { type: 'segment_entered', segment: 'lifecycle-at-risk' } },
    { key: 'points-expiring', name: 'Points expiring', trigger: { type: 'loyalty', event: 'points_expiring', tier: null } },
  ]);
  const journeysIn = (segment: string | null, stage: string) => matrix.cells.find((c) => c.segment === segment && c.lifecycleStage === stage)?.journeys.map((j) => j.key);

  it('adds the segments journeys start from as rows, and lists in each cell the journeys its customers may be sent through', () => {
    expect(matrix.segments).toEqual([null, 'camera-fans-this-week', 'camera-intent', 'fraud-watch']);
    expect(journeysIn('camera-fans-this-week', 'active')).toEqual(['camera-fans-10', 'points-expiring']);
    expect(journeysIn('camera-fans-this-week', 'at_risk')).toEqual(['camera-fans-10', 'points-expiring', 'winback-mail']);
    expect(journeysIn(null, 'active')).toEqual(['points-expiring']);
    expect(journeysIn('camera-fans-this-week', 'active')).not.toContain('winback-mail');
    expect(matrixCsv(matrix).split('\r\n')[2]).toContain('Welcome 5 €; journey: Camera fans: 10 %; journey: Points expiring,');
  });
});

describe('matrixCsv', () => {
  it('writes a row per segment (name, key) and a column per stage, quoting commas and quotes and defusing a cell that starts like a formula', () => {
    const lines = matrixCsv(personalizationMatrix(offers, { 'camera-intent': 'Camera intent' })).split('\r\n');
    expect(lines[0]).toBe('segment,key,prospect,new,active,loyal,at risk,lapsed');
    expect(lines[1]).toBe("(no segment),,'=SUM(A1); Welcome 5 €,'=SUM(A1); Welcome 5 €,'=SUM(A1); Welcome 5 €,'=SUM(A1); Welcome 5 €,Win-back; =SUM(A1); Welcome 5 €,Win-back; =SUM(A1); Welcome 5 €");
    expect(lines[2].startsWith('Camera intent,camera-intent,"10% off cameras, ""this week""; =SUM(A1); Welcome 5 €",')).toBe(true);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
  });
});
