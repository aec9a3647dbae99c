/** What a minimisation reports: where it stopped, the value there, and whether it converged. */
export interface Minimum {
  x: number[];
  value: number;
  /** Largest absolute component of the gradient where it stopped. */
  gradientNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

/** An objective that returns its value and gradient together (they share most of the work). */
export type ObjectiveWithGradient = (x: number[]) => { value: number; gradient: number[] };

const dot = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + ai * b[i], 0);
const maxAbs = (a: number[]) => a.reduce((m, ai) => Math.max(m, Math.abs(ai)), 0);

/**
 * BFGS quasi-Newton minimisation with a backtracking (Armijo) line search. Non-finite values count
 * as "too far": the step is shortened, so an objective may refuse points outside its domain by
 * returning NaN.
 */
export function minimizeBfgs(f: ObjectiveWithGradient, start: number[], options: { gradientTolerance?: number; maxIterations?: number } = {}): Minimum {
  const n = start.length;
  const tolerance = options.gradientTolerance ?? 1e-9;
  const maxIterations = options.maxIterations ?? 1000;
  let evaluations = 1;
  let x = [...start];
  let { value, gradient } = f(x);
  if (!Number.isFinite(value)) throw new RangeError(`the objective is not finite at the start point (${start.join(', ')})`);
  // Inverse Hessian approximation, row-major.
  let h = identity(n);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    if (maxAbs(gradient) <= tolerance) {
      converged = true;
      break;
    }
    iterations += 1;
    let direction = h.map((row) => -dot(row, gradient));
    let slope = dot(direction, gradient);
    if (!(slope < 0)) {
      // Not a descent direction (the approximation went bad): start again from steepest descent.
      h = identity(n);
      direction = gradient.map((g) => -g);
      slope = dot(direction, gradient);
    }
    let step = 1;
    let next: { value: number; gradient: number[] } | undefined;
    let candidate: number[] = x;
    for (let tries = 0; tries < 60; tries += 1) {
      candidate = x.map((xi, i) => xi + step * direction[i]);
      const trial = f(candidate);
      evaluations += 1;
      if (Number.isFinite(trial.value) && trial.value <= value + 1e-4 * step * slope && trial.gradient.every(Number.isFinite)) {
        next = trial;
        break;
      }
      step *= 0.5;
    }
    if (!next) break; // no decrease along the direction: as good as it gets at this precision
    const s = candidate.map((ci, i) => ci - x[i]);
    const y = next.gradient.map((gi, i) => gi - gradient[i]);
    const sy = dot(s, y);
    const previousValue = value;
    x = candidate;
    value = next.value;
    gradient = next.gradient;
    if (sy > 1e-300) {
      const rho = 1 / sy;
      const hy = h.map((row) => dot(row, y));
      const yhy = dot(y, hy);
      // H ← H − ρ(H y sᵀ + s yᵀ H) + (ρ² yᵀH y + ρ) s sᵀ
      h = h.map((row, i) => row.map((hij, j) => hij - rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]));
    }
    if (Math.abs(previousValue - value) <= 1e-16 * Math.max(1, Math.abs(value)) && maxAbs(s) <= 1e-14) break;
  }
  return { x, value, gradientNorm: maxAbs(gradient), iterations, evaluations, converged: converged || maxAbs(gradient) <= tolerance };
}

function identity(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

/** A maximum-likelihood fit and the optimiser's report. */
export interface LikelihoodFit<P> {
  params: P;
  logLikelihood: number;
  /** Observations (customers) the likelihood sums over. */
  customers: number;
  /** Converged when the gradient (per observation, in log-parameters) vanished. */
  iterations: number;
  evaluations: number;
  gradientNorm: number;
  converged: boolean;
}

/**
 * Maximum likelihood over positive parameters: BFGS on their logarithms (so they stay positive),
 * the objective taken per observation so a tolerance means the same for 2,000 as for 2,000,000.
 * `logLikelihood` fills `gradient`, when given, with the derivatives by the logarithms. Parameters
 * beyond e^±25 are a degenerate direction (data with no dropout signal sends BG/NBD's a and b to
 * infinity) and are refused, so the search stays where the likelihood is computable.
 */
export function maximizeLogLikelihood<P extends { [K in keyof P]: number }>(options: {
  names: Array<keyof P & string>;
  start: P;
  observations: number;
  logLikelihood: (params: P, gradient?: number[]) => number;
  maxIterations?: number;
}): LikelihoodFit<P> {
  const { names, observations: n } = options;
  const toParams = (v: number[]) => Object.fromEntries(names.map((name, i) => [name, Math.exp(v[i])])) as P;
  const objective = (v: number[]) => {
    if (v.some((vi) => !(Math.abs(vi) <= 25))) return { value: NaN, gradient: v.map(() => NaN) };
    const gradient: number[] = [];
    const value = -options.logLikelihood(toParams(v), gradient) / n;
    return { value, gradient: gradient.map((g) => -g / n) };
  };
  const result = minimizeBfgs(
    objective,
    names.map((name) => Math.log(options.start[name])),
    { gradientTolerance: 1e-6, maxIterations: options.maxIterations ?? 1000 },
  );
  const params = toParams(result.x);
  return {
    params,
    logLikelihood: options.logLikelihood(params),
    customers: n,
    iterations: result.iterations,
    evaluations: result.evaluations,
    gradientNorm: result.gradientNorm,
    converged: result.converged,
  };
}
