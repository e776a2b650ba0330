import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { WORKSPACE_CAPACITY, type Perception } from './workspace.js';

/**
 * Integrated information Φ of the global workspace: how much the workspace's dynamics, taken
 * as a whole, carry information from one moment to the next beyond what its parts carry on
 * their own. The full derivation and its limits are in `docs/consciousness-phi.md`.
 *
 * ## The system
 * The *elements* are the perception sources (the specialist processes that bid for the
 * workspace): the {@link PHI_LIMITS.maxElements} most frequent sources in the analysed history.
 * After each perception, element `s` has the activation "highest salience among the perceptions
 * of `s` still in the workspace window" (0 when none is). One perception is one time step.
 *
 * ## The measure
 * Φ is the *stochastic interaction* of the activations at lag 1 (Ay 2001/2015; "Φ_H" in
 * Mediano, Seth & Barrett 2019, "Measuring integrated information", Entropy 21(1):17), under a
 * Gaussian model of the activations, minimised over bipartitions of the elements:
 *
 *   Φ_SI(P) = Σ_k H(M_k(t) | M_k(t−1)) − H(X(t) | X(t−1))
 *           = ½ log2( Π_k det Σ(M_k(t) | M_k(t−1)) / det Σ(X(t) | X(t−1)) )   [bits]
 *   Φ = min over bipartitions P = {M_1, M_2} of Φ_SI(P)   (the minimum information bipartition)
 *
 * where Σ(A|B) = Σ_AA − Σ_AB Σ_BB⁻¹ Σ_BA is a conditional covariance. Φ_SI is never negative
 * (conditioning on less cannot shrink a covariance, and Fischer's inequality bounds the
 * determinant of a block-diagonal), and it is 0 exactly when the parts evolve independently.
 *
 * This is not IIT 3.0/4.0's Φ over cause-effect structures, which needs the system's full
 * transition probability matrix and is intractable beyond a dozen binary elements. It is a
 * measure of the same idea that is well defined, cheap and computable from observed dynamics.
 */

/** Bounds of the estimate. */
export const PHI_LIMITS = Object.freeze({
  /** At most this many elements (2^(n−1) − 1 bipartitions: 127 for 8). */
  maxElements: 8,
  /** Need at least this many (previous, next) pairs per element, and {@link minPairs} overall. */
  pairsPerElement: 10,
  minPairs: 20,
  /**
   * Ridge added to the standardized covariance so that a perfectly predictable element does not
   * make Φ infinite. It caps one element's contribution at ½·log2(1/ridge) ≈ 10 bits.
   */
  ridge: 1e-6,
  /** Elements whose activation varies less than this (standard deviation) carry no information and are left out. */
  minStdDev: 1e-9,
});

/** Why Φ could not be estimated. */
export type UndefinedReason = 'too_few_elements' | 'too_few_samples';

/** Φ of a set of time series. */
export type IntegrationEstimate =
  | {
      readonly defined: true;
      /** Φ in bits (≥ 0). */
      readonly phiBits: number;
      /** The elements that took part (varying ones), in input order. */
      readonly elements: readonly string[];
      /** The minimum information bipartition: the cut that loses the least information. */
      readonly bipartition: readonly [readonly string[], readonly string[]];
      /** Number of (previous, next) pairs used. */
      readonly pairs: number;
    }
  | {
      readonly defined: false;
      readonly reason: UndefinedReason;
      readonly elements: readonly string[];
      readonly pairs: number;
    };

/** Φ of the workspace at one stream version. */
export interface IntegrationReport {
  readonly estimate: IntegrationEstimate;
  /** The stream version the estimate reflects (0 before the first perception). */
  readonly version: number;
  /** How many recent perceptions the estimate looks at, at most. */
  readonly historyLimit: number;
}

/** The workspace's activity as time series: one row per time step, one column per element. */
export interface WorkspaceActivity {
  /** The element names (perception sources), most frequent first, ties by name. */
  readonly elements: readonly string[];
  /** `series[t][e]`: the activation of element `e` after step `t`. */
  readonly series: readonly (readonly number[])[];
}

/**
 * The activations after each perception of `history` (oldest first). The first
 * `capacity − 1` perceptions only fill the window, so a history of `n` perceptions gives
 * `n − capacity + 1` rows (none when it is shorter than the window).
 */
export function workspaceActivity(
  history: readonly Pick<Perception, 'source' | 'salience'>[],
  options: { readonly capacity?: number; readonly maxElements?: number } = {},
): WorkspaceActivity {
  const capacity = options.capacity ?? WORKSPACE_CAPACITY;
  const maxElements = options.maxElements ?? PHI_LIMITS.maxElements;
  const counts = new Map<string, number>();
  for (const { source } of history) counts.set(source, (counts.get(source) ?? 0) + 1);
  const elements = [...counts.entries()]
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxElements)
    .map(([source]) => source);
  const column = new Map(elements.map((source, index) => [source, index]));
  const series: number[][] = [];
  for (let end = capacity - 1; end < history.length; end += 1) {
    const row = new Array<number>(elements.length).fill(0);
    for (let index = end - capacity + 1; index <= end; index += 1) {
      const perception = history[index]!;
      const at = column.get(perception.source);
      if (at !== undefined) row[at] = Math.max(row[at]!, perception.salience);
    }
    series.push(row);
  }
  return { elements, series };
}

/** Φ of the workspace activity: {@link integratedInformation} over {@link workspaceActivity}. */
export function workspacePhi(history: readonly Pick<Perception, 'source' | 'salience'>[]): IntegrationEstimate {
  const { elements, series } = workspaceActivity(history);
  return integratedInformation(series, elements);
}

/**
 * Φ (stochastic interaction at lag 1, minimised over bipartitions; see the module comment) of
 * `series` (rows are time steps, columns the elements named by `names`). Columns that do not
 * vary are left out first. Undefined with fewer than two varying elements or too few samples.
 */
export function integratedInformation(series: readonly (readonly number[])[], names: readonly string[]): IntegrationEstimate {
  const pairs = Math.max(0, series.length - 1);
  const standardized = standardize(series, names.length);
  const elements = standardized.kept.map((index) => names[index]!);
  if (elements.length < 2) return { defined: false, reason: 'too_few_elements', elements, pairs };
  if (pairs < Math.max(PHI_LIMITS.minPairs, PHI_LIMITS.pairsPerElement * elements.length)) {
    return { defined: false, reason: 'too_few_samples', elements, pairs };
  }
  const conditional = conditionalCovariances(standardized.columns);
  const whole = logDet(conditional.whole);
  const n = elements.length;
  let best: { phi: number; mask: number } | undefined;
  // The last element always sits in the second part, so each bipartition is visited once.
  for (let mask = 1; mask < 2 ** (n - 1); mask += 1) {
    const first: number[] = [];
    const second: number[] = [];
    for (let index = 0; index < n; index += 1) ((mask >> index) & 1 ? first : second).push(index);
    const phi = (logDet(conditional.ofPart(first)) + logDet(conditional.ofPart(second)) - whole) / (2 * Math.LN2);
    if (best === undefined || phi < best.phi) best = { phi, mask };
  }
  const cut = best!;
  const part = (inFirst: boolean) => elements.filter((_, index) => Boolean((cut.mask >> index) & 1) === inFirst);
  // Φ_SI ≥ 0 exactly; rounding can leave a tiny negative.
  return { defined: true, phiBits: Math.max(0, cut.phi), elements, bipartition: [part(true), part(false)], pairs };
}

/** The varying columns of `series`, each scaled to mean 0 and variance 1 (Φ does not depend on scale). */
function standardize(series: readonly (readonly number[])[], width: number) {
  const kept: number[] = [];
  const columns: number[][] = [];
  for (let column = 0; column < width; column += 1) {
    const values = series.map((row) => row[column] ?? 0);
    const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1);
    const sd = Math.sqrt(variance);
    if (!(sd > PHI_LIMITS.minStdDev)) continue;
    kept.push(column);
    columns.push(values.map((value) => (value - mean) / sd));
  }
  return { kept, columns };
}

/**
 * The covariance of (next, previous) over all lag-1 pairs of the standardized `columns`, and the
 * conditional covariance Σ(next_S | previous_S) for any subset S of the elements.
 */
function conditionalCovariances(columns: readonly number[][]) {
  const n = columns.length;
  const pairs = columns[0]!.length - 1;
  // Variables 0..n−1 are the elements at t, n..2n−1 the same elements at t−1.
  const lagged = [...columns.map((c) => c.slice(1)), ...columns.map((c) => c.slice(0, -1))];
  const means = lagged.map((values) => values.reduce((sum, value) => sum + value, 0) / pairs);
  const joint = Matrix.zeros(2 * n, 2 * n);
  for (let i = 0; i < 2 * n; i += 1) {
    for (let j = i; j < 2 * n; j += 1) {
      let sum = 0;
      for (let k = 0; k < pairs; k += 1) sum += (lagged[i]![k]! - means[i]!) * (lagged[j]![k]! - means[j]!);
      const value = sum / (pairs - 1) + (i === j ? PHI_LIMITS.ridge : 0);
      joint.set(i, j, value);
      joint.set(j, i, value);
    }
  }
  const ofPart = (part: readonly number[]): Matrix => {
    const next = part;
    const previous = part.map((index) => index + n);
    const a = joint.selection(next, next);
    const b = joint.selection(next, previous);
    const c = joint.selection(previous, previous);
    // Σ_ab Σ_bb⁻¹ Σ_ba through a Cholesky solve: Σ_bb is symmetric positive definite (ridge).
    const solved = new CholeskyDecomposition(c).solve(b.transpose());
    const conditional = Matrix.sub(a, b.mmul(solved));
    // Symmetric in exact arithmetic; rounding leaves ~1e-16 asymmetries that Cholesky refuses.
    return conditional.add(conditional.transpose()).div(2);
  };
  return { whole: ofPart(columns.map((_, index) => index)), ofPart };
}

/** ln det of a symmetric positive definite matrix, from its Cholesky factor. */
function logDet(matrix: Matrix): number {
  const cholesky = new CholeskyDecomposition(matrix);
  // The ridge keeps every conditional covariance at least `ridge`·I, so this is a bug.
  if (!cholesky.isPositiveDefinite()) throw new Error('a conditional covariance is not positive definite');
  const lower = cholesky.lowerTriangularMatrix;
  let sum = 0;
  for (let i = 0; i < matrix.rows; i += 1) sum += Math.log(lower.get(i, i));
  return 2 * sum;
}
